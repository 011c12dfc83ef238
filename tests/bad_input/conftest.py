from tests.offboarding.conftest import iam, make_integration, make_user  # noqa: F401

import os
import sys
from pathlib import Path

# NOTE: the repository has no pytest configuration that sets pythonpath yet, so the repository root
# is put on sys.path here to import fakeaws and integrations when pytest runs from .venv/bin/pytest.
REPOSITORY_ROOT = str(Path(__file__).resolve().parents[2])
if REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, REPOSITORY_ROOT)

# Keeps botocore from asking the EC2 instance metadata service for credentials.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import pytest  # noqa: E402
from fakeaws_support import CUSTOMER_ACCOUNT_ID, EXTERNAL_ID, NO_RETRIES, role_session  # noqa: E402

from integrations.connectors.aws.policies import BASELINE_ACTIONS, EXTENDED_ACTIONS  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Loads the fake_aws_server and fake_aws fixtures here, because pytest accepts pytest_plugins only
    # in the root conftest.py.
    config.pluginmanager.import_plugin("fakeaws.pytest_plugin")


@pytest.fixture
def baseline_role(fake_aws) -> str:
    return fake_aws.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID, external_id=EXTERNAL_ID, actions=BASELINE_ACTIONS
    )


@pytest.fixture
def extended_role(fake_aws) -> str:
    return fake_aws.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID,
        role_name="RollcallAccessExtended",
        external_id=EXTERNAL_ID,
        actions=EXTENDED_ACTIONS,
    )


@pytest.fixture
def baseline_iam(fake_aws, baseline_role):
    """IAM client of the customer account through the baseline role, without retries."""
    session = role_session(fake_aws, baseline_role)
    return session.client("iam", endpoint_url=fake_aws.endpoint_url, config=NO_RETRIES)


@pytest.fixture
def extended_iam(fake_aws, extended_role):
    session = role_session(fake_aws, extended_role)
    return session.client("iam", endpoint_url=fake_aws.endpoint_url, config=NO_RETRIES)


@pytest.fixture
def admin_iam(fake_aws):
    return fake_aws.iam(CUSTOMER_ACCOUNT_ID)

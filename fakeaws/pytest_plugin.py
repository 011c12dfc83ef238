"""pytest fixtures for the fake AWS.

Load with ``pytest_plugins = ["fakeaws.pytest_plugin"]`` in the top-level conftest.py, or import the
fixtures into a conftest.py. ``fake_aws_server`` starts one fake for the session, and ``fake_aws``
resets it before each test and points boto3 at it through the environment.
"""

from collections.abc import Iterator

import pytest

from .fake import FakeAWS


@pytest.fixture(scope="session")
def fake_aws_server() -> Iterator[FakeAWS]:
    """Start one fake AWS on a free loopback port for the whole test session."""
    fake = FakeAWS()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_aws(fake_aws_server: FakeAWS, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAWS]:
    """Reset the session's fake AWS and set boto3's environment to reach it as the platform principal.

    Latency and rate limits that a test sets are removed afterwards.
    """
    fake = fake_aws_server
    fake.reset()
    credentials = fake.platform_credentials
    monkeypatch.setenv("AWS_ENDPOINT_URL", fake.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "MOTO_ACCOUNT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    yield fake
    fake.configure(latency_ms=0, unlimited_rate=True)
    fake.reset()

import pytest

from integrations.connectors.aws.policies import BASELINE_ACTIONS, EXTENDED_ACTIONS
from tests.fakeaws.fakeaws_support import CUSTOMER_ACCOUNT_ID, EXTERNAL_ID, NO_RETRIES, role_session


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

"""Constants and helpers shared by the fakeaws tests."""

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CUSTOMER_ACCOUNT_ID = "222222222222"
EXTERNAL_ID = "test-external-id-0123456789abcdef"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


def role_session(fake, role_arn: str, external_id: str = EXTERNAL_ID) -> boto3.Session:
    return fake.assume_role(role_arn, external_id=external_id)


def error_of(error: ClientError) -> tuple[str, int]:
    """Return the AWS error code and HTTP status that botocore parsed."""
    return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]

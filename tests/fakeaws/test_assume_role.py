import boto3
import pytest
from botocore.exceptions import ClientError
from fakeaws_support import CUSTOMER_ACCOUNT_ID, EXTERNAL_ID, NO_RETRIES


def assume(fake, role_arn, external_id):
    sts = fake.platform_client("sts", config=NO_RETRIES)
    params = {"RoleArn": role_arn, "RoleSessionName": "rollcall-test"}
    if external_id is not None:
        params["ExternalId"] = external_id
    return sts.assume_role(**params)


def assert_access_denied(error: ClientError, role_arn: str) -> None:
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Message"] == (
        f"User: arn:aws:iam::111111111111:user/rollcall-platform is not authorized to perform: "
        f"sts:AssumeRole on resource: {role_arn}"
    )


def test_assume_role_with_external_id(fake_aws, baseline_role):
    response = assume(fake_aws, baseline_role, EXTERNAL_ID)

    assert response["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{CUSTOMER_ACCOUNT_ID}:assumed-role/RollcallAccess/rollcall-test"
    )
    assert response["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_assume_role_through_environment(fake_aws, baseline_role):
    # The fixture sets AWS_ENDPOINT_URL and the platform credentials, as the product reads them.
    sts = boto3.client("sts")

    identity = sts.get_caller_identity()
    response = sts.assume_role(RoleArn=baseline_role, RoleSessionName="env", ExternalId=EXTERNAL_ID)

    assert identity["Account"] == fake_aws.platform_account_id
    assert response["AssumedRoleUser"]["Arn"].endswith(":assumed-role/RollcallAccess/env")


@pytest.mark.parametrize("external_id", ["wrong-external-id", None], ids=["wrong", "missing"])
def test_assume_role_rejects_external_id(fake_aws, baseline_role, external_id):
    with pytest.raises(ClientError) as raised:
        assume(fake_aws, baseline_role, external_id)

    assert_access_denied(raised.value, baseline_role)
    assert fake_aws.calls.denied == 1


def test_assume_role_rejects_untrusted_account(fake_aws):
    role_arn = fake_aws.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID, external_id=EXTERNAL_ID, trusted_account_id="999999999999"
    )

    with pytest.raises(ClientError) as raised:
        assume(fake_aws, role_arn, EXTERNAL_ID)

    assert_access_denied(raised.value, role_arn)


def test_assume_role_without_condition(fake_aws):
    role_arn = fake_aws.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID, external_id=EXTERNAL_ID, require_external_id=False
    )

    response = assume(fake_aws, role_arn, None)

    assert response["Credentials"]["AccessKeyId"]


def test_assume_role_with_raw_trust_policy(fake_aws):
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": fake_aws.platform_user_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": ["first-id-000", EXTERNAL_ID]}},
            }
        ],
    }
    role_arn = fake_aws.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID, external_id=EXTERNAL_ID, trust_policy=trust
    )

    assert assume(fake_aws, role_arn, EXTERNAL_ID)["Credentials"]["AccessKeyId"]
    with pytest.raises(ClientError) as raised:
        assume(fake_aws, role_arn, "other-id-000")
    assert_access_denied(raised.value, role_arn)


def test_assume_role_rejects_unknown_role(fake_aws, baseline_role):
    missing_arn = f"arn:aws:iam::{CUSTOMER_ACCOUNT_ID}:role/DoesNotExist"

    with pytest.raises(ClientError) as raised:
        assume(fake_aws, missing_arn, EXTERNAL_ID)

    assert_access_denied(raised.value, missing_arn)


def test_unknown_access_key_rejected(fake_aws):
    sts = boto3.client(
        "sts",
        endpoint_url=fake_aws.endpoint_url,
        aws_access_key_id="AKIAUNKNOWNKEY000000",
        aws_secret_access_key="unknown-secret",
        config=NO_RETRIES,
    )

    with pytest.raises(ClientError) as raised:
        sts.get_caller_identity()

    assert raised.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_session_key_without_token_rejected(fake_aws, baseline_role):
    credentials = assume(fake_aws, baseline_role, EXTERNAL_ID)["Credentials"]
    iam = boto3.client(
        "iam",
        endpoint_url=fake_aws.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        config=NO_RETRIES,
    )

    with pytest.raises(ClientError) as raised:
        iam.list_users()

    assert raised.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_expired_session_rejected(fake_aws, baseline_role):
    session = fake_aws.assume_role(baseline_role, external_id=EXTERNAL_ID)
    iam = session.client("iam", endpoint_url=fake_aws.endpoint_url, config=NO_RETRIES)
    iam.list_users()

    assert fake_aws.expire_sessions() == 1
    with pytest.raises(ClientError) as raised:
        iam.list_users()

    assert raised.value.response["Error"]["Code"] == "ExpiredToken"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_wrong_secret_rejected(fake_aws):
    sts = boto3.client(
        "sts",
        endpoint_url=fake_aws.endpoint_url,
        aws_access_key_id=fake_aws.platform_credentials["aws_access_key_id"],
        aws_secret_access_key="not-the-platform-secret",
        config=NO_RETRIES,
    )

    with pytest.raises(ClientError) as raised:
        sts.get_caller_identity()

    assert raised.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_wrong_session_secret_rejected_by_account(fake_aws, baseline_role):
    credentials = assume(fake_aws, baseline_role, EXTERNAL_ID)["Credentials"]
    account = boto3.client(
        "account",
        endpoint_url=fake_aws.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key="wrong-session-secret",
        aws_session_token=credentials["SessionToken"],
        config=NO_RETRIES,
    )

    with pytest.raises(ClientError) as raised:
        account.get_contact_information()

    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

import pytest
from botocore.exceptions import ClientError
from fakeaws_support import CUSTOMER_ACCOUNT_ID, EXTERNAL_ID, NO_RETRIES, error_of, role_session

CONTACT = {
    "FullName": "Dana Whitfield",
    "CompanyName": "Acme Corporation",
    "PhoneNumber": "+1-206-555-0100",
    "AddressLine1": "410 Terry Avenue North",
    "City": "Seattle",
    "PostalCode": "98109",
    "CountryCode": "US",
}


def iam_with_policy(fake, policy: dict, *, attach_as: str = "inline"):
    role_arn = fake.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID, external_id=EXTERNAL_ID, permission_policy=policy, attach_as=attach_as
    )
    return role_session(fake, role_arn).client("iam", endpoint_url=fake.endpoint_url, config=NO_RETRIES)


def test_baseline_allows_baseline_actions(baseline_iam, admin_iam):
    admin_iam.create_user(UserName="alice")

    assert [user["UserName"] for user in baseline_iam.list_users()["Users"]] == ["alice"]
    assert baseline_iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    assert baseline_iam.list_groups_for_user(UserName="alice")["Groups"] == []


def test_baseline_denies_extended_action(baseline_iam, admin_iam, fake_aws):
    admin_iam.create_user(UserName="alice")

    with pytest.raises(ClientError) as raised:
        baseline_iam.list_signing_certificates(UserName="alice")

    assert error_of(raised.value) == ("AccessDenied", 403)
    assert raised.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{CUSTOMER_ACCOUNT_ID}:assumed-role/RollcallAccess/rollcall is not authorized to "
        f"perform: iam:ListSigningCertificates on resource: arn:aws:iam::{CUSTOMER_ACCOUNT_ID}:user/alice "
        "because no identity-based policy allows the iam:ListSigningCertificates action"
    )
    assert fake_aws.calls.denied == 1


def test_extended_allows_offboarding_actions(extended_iam, admin_iam):
    admin_iam.create_user(UserName="alice")

    assert extended_iam.list_signing_certificates(UserName="alice")["Certificates"] == []
    assert extended_iam.list_ssh_public_keys(UserName="alice")["SSHPublicKeys"] == []
    assert extended_iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"] == []


def test_explicit_deny_wins(fake_aws, admin_iam):
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:Delete*", "Resource": "*"},
        ],
    }
    iam = iam_with_policy(fake_aws, policy)
    admin_iam.create_user(UserName="alice")

    with pytest.raises(ClientError) as raised:
        iam.delete_user(UserName="alice")

    assert error_of(raised.value) == ("AccessDenied", 403)
    assert "with an explicit deny in an identity-based policy" in raised.value.response["Error"]["Message"]
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "alice"


@pytest.mark.parametrize("attach_as", ["inline", "managed"])
def test_wildcard_action_policy(fake_aws, admin_iam, attach_as):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "IAM:List*", "Resource": "*"}]}
    iam = iam_with_policy(fake_aws, policy, attach_as=attach_as)
    admin_iam.create_user(UserName="alice")

    assert len(iam.list_users()["Users"]) == 1
    with pytest.raises(ClientError) as raised:
        iam.delete_user(UserName="alice")
    assert error_of(raised.value) == ("AccessDenied", 403)
    assert "iam:DeleteUser" in raised.value.response["Error"]["Message"]


def test_contact_information_from_seed(fake_aws, baseline_role):
    fake_aws.create_account(CUSTOMER_ACCOUNT_ID, contact_information=CONTACT)
    account = role_session(fake_aws, baseline_role).client(
        "account", endpoint_url=fake_aws.endpoint_url, config=NO_RETRIES
    )

    assert account.get_contact_information()["ContactInformation"] == CONTACT


def test_contact_information_missing(fake_aws, baseline_role):
    account = role_session(fake_aws, baseline_role).client(
        "account", endpoint_url=fake_aws.endpoint_url, config=NO_RETRIES
    )

    with pytest.raises(ClientError) as raised:
        account.get_contact_information()

    assert error_of(raised.value) == ("ResourceNotFoundException", 404)


def test_contact_information_denied(fake_aws):
    fake_aws.create_account(CUSTOMER_ACCOUNT_ID, contact_information=CONTACT)
    role_arn = fake_aws.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID, external_id=EXTERNAL_ID, actions=("iam:ListUsers",)
    )
    account = role_session(fake_aws, role_arn).client("account", endpoint_url=fake_aws.endpoint_url, config=NO_RETRIES)

    with pytest.raises(ClientError) as raised:
        account.get_contact_information()

    assert error_of(raised.value) == ("AccessDeniedException", 403)
    assert "account:GetContactInformation" in raised.value.response["Error"]["Message"]

import time

import pytest
from fakeaws_support import NO_RETRIES

from fakeaws.evaluation import parse_document
from integrations.connectors.aws import policies


def users_of(fake, account_id: str) -> list[dict]:
    iam = fake.iam(account_id)
    return [user for page in iam.get_paginator("list_users").paginate() for user in page["Users"]]


@pytest.fixture
def demo(fake_aws) -> dict:
    return fake_aws.seed("demo")


def test_demo_accounts_and_roles(demo, fake_aws):
    accounts = demo["accounts"]

    assert len(accounts) >= 2
    assert 140 <= sum(account["users"] for account in accounts) <= 160
    for account in accounts:
        assert {role["policy"] for role in account["roles"]} == {"baseline", "extended"}
        for role in account["roles"]:
            assert len(role["external_id"]) >= 32
            session = fake_aws.assume_role(role["role_arn"], external_id=role["external_id"])
            account_client = session.client("account", endpoint_url=fake_aws.endpoint_url, config=NO_RETRIES)
            assert account_client.get_contact_information()["ContactInformation"]["CompanyName"]


def test_demo_roles_use_product_policies(demo, fake_aws):
    account = demo["accounts"][0]
    iam = fake_aws.iam(account["account_id"])

    for role in account["roles"]:
        document = iam.get_role_policy(RoleName=role["role_name"], PolicyName=role["role_name"])["PolicyDocument"]
        expected = policies.EXTENDED_ACTIONS if role["policy"] == "extended" else policies.BASELINE_ACTIONS
        assert sorted(parse_document(document)["Statement"][0]["Action"]) == sorted(expected)
        trust = iam.get_role(RoleName=role["role_name"])["Role"]["AssumeRolePolicyDocument"]
        assert trust == policies.trust_policy(
            platform_account_id=fake_aws.platform_account_id, external_id=role["external_id"]
        )


def test_demo_is_deterministic(fake_aws):
    first = fake_aws.seed("demo")
    first_users = [(user["UserName"], user["UserId"]) for user in users_of(fake_aws, "222222222222")]
    fake_aws.reset()

    second = fake_aws.seed("demo")
    second_users = [(user["UserName"], user["UserId"]) for user in users_of(fake_aws, "222222222222")]

    assert first["accounts"] == second["accounts"]
    assert first_users == second_users


def test_demo_user_mix(demo, fake_aws):
    iam = fake_aws.iam("222222222222")
    details = [
        user
        for page in iam.get_paginator("get_account_authorization_details").paginate(Filter=["User"])
        for user in page["UserDetailList"]
    ]
    tag_keys = {tag["Key"] for user in details for tag in user.get("Tags", [])}
    service_roles = [role for role in iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]]
    key_last_used = [
        iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        for user in details
        for key in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]
    ]

    assert {"email", "Email", "EMAIL"} <= tag_keys
    assert any(user["GroupList"] for user in details)
    assert any(user.get("UserPolicyList") for user in details)
    assert any(user["Path"] == "/service/" for user in details)
    assert len(service_roles) >= 2
    assert any("LastUsedDate" not in used for used in key_last_used)
    assert any("LastUsedDate" in used for used in key_last_used)


def test_large_seed_is_fast(fake_aws):
    started = time.monotonic()
    description = fake_aws.seed_large(5000)
    elapsed = time.monotonic() - started

    assert description["accounts"][0]["users"] == 5000
    assert elapsed < 20


def test_unknown_seed_rejected(fake_aws):
    with pytest.raises(ValueError, match="unknown seed"):
        fake_aws.seed("huge")

import json

import pytest
from botocore.exceptions import ClientError
from fakeaws_support import error_of

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def create_users(iam, count: int) -> list[str]:
    names = [f"user-{index:03d}" for index in range(count)]
    for name in names:
        iam.create_user(UserName=name)
    return names


def test_list_users_max_items_and_marker(admin_iam, baseline_iam):
    names = create_users(admin_iam, 5)

    first = baseline_iam.list_users(MaxItems=2)
    second = baseline_iam.list_users(MaxItems=2, Marker=first["Marker"])
    last = baseline_iam.list_users(MaxItems=2, Marker=second["Marker"])

    assert [user["UserName"] for user in first["Users"]] == names[:2]
    assert first["IsTruncated"] is True
    assert [user["UserName"] for user in second["Users"]] == names[2:4]
    assert [user["UserName"] for user in last["Users"]] == names[4:]
    assert last["IsTruncated"] is False
    assert "Marker" not in last


def test_list_users_default_page_size(admin_iam, baseline_iam):
    create_users(admin_iam, 105)

    page = baseline_iam.list_users()

    assert len(page["Users"]) == 100
    assert page["IsTruncated"] is True


def test_list_users_paginator_collects_all(admin_iam, baseline_iam, fake_aws):
    names = create_users(admin_iam, 7)
    fake_aws.reset_calls()

    pages = list(baseline_iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 3}))

    assert [user["UserName"] for page in pages for user in page["Users"]] == names
    assert fake_aws.calls["ListUsers"] == 3


def test_list_roles_pages(admin_iam, baseline_iam):
    for index in range(4):
        admin_iam.create_role(RoleName=f"role-{index}", AssumeRolePolicyDocument=TRUST)
    paginator = baseline_iam.get_paginator("list_roles")

    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))

    # RollcallAccess plus the four roles created here.
    assert [len(page["Roles"]) for page in pages] == [2, 2, 1]


def test_list_access_keys_pages(admin_iam, baseline_iam):
    admin_iam.create_user(UserName="alice")
    key_ids = [admin_iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"] for _ in range(2)]

    first = baseline_iam.list_access_keys(UserName="alice", MaxItems=1)
    second = baseline_iam.list_access_keys(UserName="alice", MaxItems=1, Marker=first["Marker"])

    assert [key["AccessKeyId"] for key in first["AccessKeyMetadata"] + second["AccessKeyMetadata"]] == key_ids
    assert second["IsTruncated"] is False


def test_account_authorization_details_pages(admin_iam, extended_iam):
    names = create_users(admin_iam, 5)
    admin_iam.create_group(GroupName="Developers")
    admin_iam.add_user_to_group(GroupName="Developers", UserName=names[0])
    admin_iam.tag_user(UserName=names[0], Tags=[{"Key": "email", "Value": "alice@example.com"}])

    paginator = extended_iam.get_paginator("get_account_authorization_details")
    pages = list(paginator.paginate(Filter=["User"], PaginationConfig={"PageSize": 2}))
    users = [user for page in pages for user in page["UserDetailList"]]

    assert len(pages) == 3
    assert [user["UserName"] for user in users] == names
    assert users[0]["GroupList"] == ["Developers"]
    assert users[0]["Tags"] == [{"Key": "email", "Value": "alice@example.com"}]


@pytest.mark.parametrize(
    ("params", "code"), [({"Marker": "not-a-marker"}, "ValidationError"), ({"MaxItems": 1001}, "ValidationError")]
)
def test_list_users_rejects_bad_paging(baseline_iam, params, code):
    with pytest.raises(ClientError) as raised:
        baseline_iam.list_users(**params)

    assert error_of(raised.value) == (code, 400)


def test_created_user_has_aws_style_id(admin_iam, baseline_iam):
    created = admin_iam.create_user(UserName="alice")["User"]["UserId"]
    created_group = admin_iam.create_group(GroupName="Developers")["Group"]["GroupId"]

    listed = baseline_iam.list_users()["Users"][0]["UserId"]

    assert created.startswith("AIDA")
    assert len(created) == 21
    assert listed == created
    assert created_group.startswith("AGPA")

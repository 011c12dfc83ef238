import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessKey, SaaSAccount
from accounts.services.merging import merge_accounts
from tests.accounts.factories import make_account, make_integration, make_key, make_person

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:accounts_saasaccount_changelist"


def listed_names(response) -> set[str]:
    return {account.name for account in response.context["cl"].result_list}


@pytest.fixture
def integration():
    return make_integration("Production")


def test_list_shows_columns(staff_client, integration):
    person = make_person("taro@example.com", name="Taro", status="left")
    account = make_account(
        integration,
        "taro",
        person=person,
        email=person.email,
        user_type="employee",
        has_console_password=True,
        mfa_enabled=False,
    )
    make_key(account, "AKIAEXAMPLE000000001")
    make_key(account, "AKIAEXAMPLE000000002", status="Inactive")

    page = staff_client.get(reverse(CHANGELIST)).content.decode()

    assert '<span class="rc-badge rc-type-employee">Employee</span>' in page
    assert '<span class="rc-badge rc-person-left">Left</span>' in page
    assert '<td class="field-active_key_count">1</td>' in page
    assert '<td class="field-console_access">Yes</td>' in page
    assert '<td class="field-mfa">No</td>' in page


def test_list_shows_unknown_not_no(staff_client, integration):
    make_account(
        integration,
        "unreadable",
        mfa_enabled=None,
        has_console_password=None,
        unreadable={"mfa_enabled": "iam:ListMFADevices"},
    )

    page = staff_client.get(reverse(CHANGELIST)).content.decode()

    assert '<td class="field-mfa">Unknown (missing permission iam:ListMFADevices)</td>' in page
    assert '<td class="field-console_access">Unknown</td>' in page


@pytest.fixture
def varied_accounts(integration):
    now = timezone.now()
    left = make_person("left@example.com", status="left")
    on_leave = make_person("leave@example.com", status="on_leave")
    make_account(integration, "retiree", person=left, user_type="employee", last_activity=now)
    make_account(integration, "removed-retiree", person=left, user_type="employee", status="removed")
    make_account(integration, "resting", person=on_leave, user_type="employee", last_activity=now)
    make_account(
        integration,
        "dormant",
        user_type="system",
        last_activity=now - datetime.timedelta(days=46),
    )
    make_account(
        integration,
        "never-used",
        user_type="system",
        last_activity=None,
        created_in_service=now - datetime.timedelta(days=100),
    )
    stale_key = make_account(integration, "stale-key", user_type="system", last_activity=now)
    make_key(stale_key, "AKIASTALE0000000001", days_unused=91)
    fresh_key = make_account(integration, "fresh-key", user_type="system", last_activity=now)
    make_key(fresh_key, "AKIAFRESH0000000001", days_unused=5)
    make_key(fresh_key, "AKIAOLDINACTIVE0001", status="Inactive", days_unused=300)
    make_account(integration, "mystery", user_type="unknown", last_activity=now)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"person_status": "left"}, {"retiree"}),
        ({"person_status": "on_leave"}, {"resting"}),
        ({"inactive": "45"}, {"dormant", "never-used"}),
        ({"unused_key": "90"}, {"stale-key"}),
        ({"review": "unknown"}, {"mystery"}),
        ({"user_type__exact": "system"}, {"dormant", "never-used", "stale-key", "fresh-key"}),
        ({"status__exact": "removed"}, {"removed-retiree"}),
    ],
)
def test_list_filters(staff_client, varied_accounts, query, expected):
    response = staff_client.get(reverse(CHANGELIST), query)

    assert listed_names(response) == expected


def test_integration_filter(staff_client, integration):
    other = make_integration("Staging")
    make_account(integration, "in-production")
    make_account(other, "in-staging")

    response = staff_client.get(reverse(CHANGELIST), {"integration__id__exact": other.pk})

    assert listed_names(response) == {"in-staging"}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("deploy", {"deploy-bot"}),
        ("taro@example", {"taro"}),
        ("user/deploy-bot", {"deploy-bot"}),
        ("AKIASEARCH000000001", {"deploy-bot"}),
    ],
)
def test_list_search(staff_client, integration, term, expected):
    bot = make_account(integration, "deploy-bot")
    make_key(bot, "AKIASEARCH000000001")
    make_key(bot, "AKIASEARCH000000002")
    make_account(integration, "taro", email="taro@example.com")

    response = staff_client.get(reverse(CHANGELIST), {"q": term})

    assert listed_names(response) == expected


def _make_accounts(integration, count: int) -> None:
    people = [
        make_person(f"person{index}@{integration.aws_account_id}.example.com", status="left")
        for index in range(3)
    ]
    accounts = SaaSAccount.objects.bulk_create(
        SaaSAccount(
            integration=integration,
            kind="iam_user",
            provider_id=f"AIDA{index:017d}",
            name=f"user-{index:05d}",
            arn=f"arn:aws:iam::{integration.aws_account_id}:user/user-{index:05d}",
            person=people[index % 3],
            email=people[index % 3].email,
            user_type="employee",
        )
        for index in range(count)
    )
    AccessKey.objects.bulk_create(
        AccessKey(account=account, access_key_id=f"AKIA{account.pk:016d}{suffix}", status="Active")
        for account in accounts
        for suffix in "ab"
    )


def test_list_query_count_is_constant(staff_client, integration, django_assert_num_queries):
    _make_accounts(integration, 10)
    staff_client.get(reverse(CHANGELIST))
    with CaptureQueriesContext(connection) as small:
        staff_client.get(reverse(CHANGELIST))

    _make_accounts(make_integration("Second"), 990)
    with django_assert_num_queries(len(small.captured_queries)):
        response = staff_client.get(reverse(CHANGELIST))

    assert response.context["cl"].result_count == 1000
    assert len(response.context["cl"].result_list) == 100


def test_account_page_shows_details(staff_client, integration, staff):
    person = make_person("taro@example.com", name="Taro")
    account = make_account(
        integration,
        "taro",
        groups=None,
        unreadable={"groups": "iam:ListGroupsForUser"},
        attached_policies=["ReadOnlyAccess"],
        inline_policies=[],
        tags=[{"Key": "team", "Value": "platform"}],
        mfa_enabled=True,
    )
    make_key(account, "AKIADETAIL000000001", days_unused=3)
    merge_accounts(accounts=[account], person=person, actor=staff)

    response = staff_client.get(reverse("admin:accounts_saasaccount_change", args=[account.pk]))

    page = response.content.decode()
    assert "AKIADETAIL000000001" in page
    assert "Unknown (missing permission iam:ListGroupsForUser)" in page
    assert "ReadOnlyAccess" in page
    assert "team=platform" in page
    assert "Linked to Taro &lt;taro@example.com&gt;, who is recorded as employee." in page
    assert "Merge history" in page
    assert 'name="_save"' not in page
    assert reverse("admin:accounts_saasaccount_unmerge") in page


def test_account_page_is_read_only(staff_client, integration):
    account = make_account(integration, "taro")

    staff_client.post(
        reverse("admin:accounts_saasaccount_change", args=[account.pk]),
        {"name": "renamed", "email": "x@example.com"},
    )

    account.refresh_from_db()
    assert account.name == "taro"
    assert account.email == ""


def test_accounts_cannot_be_added_or_deleted(staff_client, integration):
    account = make_account(integration, "taro")

    add = staff_client.get(reverse("admin:accounts_saasaccount_add"))
    delete = staff_client.get(reverse("admin:accounts_saasaccount_delete", args=[account.pk]))

    assert add.status_code == 403
    assert delete.status_code == 403


def test_person_page_lists_accounts_across_integrations(staff_client, integration):
    person = make_person("taro@example.com")
    make_account(integration, "taro-prod", person=person)
    make_account(make_integration("Staging"), "taro-staging", person=person)

    page = staff_client.get(reverse("admin:accounts_person_change", args=[person.pk])).content.decode()

    assert "taro-prod" in page
    assert "taro-staging" in page
    assert "Staging" in page


def test_person_list_filters_by_status(staff_client):
    make_person("left@example.com", status="left")
    make_person("here@example.com")

    response = staff_client.get(reverse("admin:accounts_person_changelist"), {"status__exact": "left"})

    assert [person.email for person in response.context["cl"].result_list] == ["left@example.com"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"has_console_password": False}, "Never"),
        ({"has_console_password": None}, "Unknown"),
        (
            {"has_console_password": True, "unreadable": {"password_last_used": "iam:ListUsers"}},
            "Unknown (missing permission iam:ListUsers)",
        ),
    ],
)
def test_account_page_password_last_used(staff_client, integration, fields, expected):
    account = make_account(integration, "taro", **fields)

    page = staff_client.get(reverse("admin:accounts_saasaccount_change", args=[account.pk])).content.decode()

    assert f'<div class="readonly">{expected}</div>' in page

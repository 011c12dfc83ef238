import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Offboarding, Person, SaaSAccount
from accounts.offboarding.services import plan_offboarding
from audit.models import AuditEvent

CONFIRM_URL = reverse("admin:accounts_saasaccount_offboard_confirm")
PLAN_URL = reverse("admin:accounts_saasaccount_offboard_plan")
CHANGELIST_URL = reverse("admin:accounts_saasaccount_changelist")


def user_names(iam) -> list[str]:
    return [user["UserName"] for user in iam.list_users()["Users"]]


def run_action(admin_client, action: str, url: str, ids: list[int]):
    return admin_client.post(url, {"action": action, "_selected_action": [str(pk) for pk in ids]})


def test_action_plans_then_confirm_deletes(
    admin_client, make_integration, make_user, iam, django_capture_on_commit_callbacks
):
    integration = make_integration()
    account = make_user(integration)

    response = run_action(admin_client, "offboard_accounts", CHANGELIST_URL, [account.pk])

    offboarding = Offboarding.objects.get()
    assert response.status_code == 302
    assert response.url == f"{CONFIRM_URL}?ids={offboarding.pk}"
    page = admin_client.get(response.url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "DeleteLoginProfile" in content
    assert "DeleteUser" in content
    assert f'name="confirm_name_{offboarding.pk}"' in content
    assert user_names(iam) == ["alice"]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CONFIRM_URL,
            {"ids": str(offboarding.pk), "confirm": "yes", f"confirm_name_{offboarding.pk}": "alice"},
        )

    assert response.status_code == 302
    started_list = admin_client.get(response.url)
    assert started_list.status_code == 200
    assert "alice" in started_list.content.decode()
    offboarding.refresh_from_db()
    assert offboarding.status == "succeeded"
    assert offboarding.requested_by.username == "admin"
    assert user_names(iam) == []
    finished = admin_client.get(reverse("admin:accounts_offboarding_change", args=[offboarding.pk]))
    assert "Succeeded" in finished.content.decode()


def test_wrong_typed_name_changes_nothing(admin_client, make_integration, make_user, iam):
    integration = make_integration()
    account = make_user(integration)
    run_action(admin_client, "offboard_accounts", CHANGELIST_URL, [account.pk])
    offboarding = Offboarding.objects.get()

    response = admin_client.post(
        CONFIRM_URL, {"ids": str(offboarding.pk), "confirm": "yes", f"confirm_name_{offboarding.pk}": "bob"}
    )

    assert response.status_code == 200
    assert "Type alice exactly to confirm its deletion." in response.content.decode()
    offboarding.refresh_from_db()
    assert offboarding.status == "planned"
    assert user_names(iam) == ["alice"]


def test_blocked_plan_offers_no_run(admin_client, make_integration, make_user, iam):
    integration = make_integration()
    account = make_user(integration, groups=("developers",))
    run_action(admin_client, "offboard_accounts", CHANGELIST_URL, [account.pk])
    offboarding = Offboarding.objects.get()

    page = admin_client.get(f"{CONFIRM_URL}?ids={offboarding.pk}").content.decode()
    forced = admin_client.post(CONFIRM_URL, {"ids": str(offboarding.pk), "confirm": "yes"})

    assert "needs iam:RemoveUserFromGroup" in page
    assert 'id="run-offboarding"' not in page
    assert 'id="plan-contain"' in page
    assert "This plan has blockers." in forced.content.decode()
    offboarding.refresh_from_db()
    assert offboarding.status == "planned"
    assert user_names(iam) == ["alice"]


def test_switch_to_containment(admin_client, make_integration, make_user, iam, django_capture_on_commit_callbacks):
    integration = make_integration()
    account = make_user(integration, groups=("developers",))
    run_action(admin_client, "offboard_accounts", CHANGELIST_URL, [account.pk])

    response = admin_client.post(PLAN_URL, {"account": str(account.pk), "mode": "contain"})
    contained = Offboarding.objects.get(mode="contain")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CONFIRM_URL, {"ids": str(contained.pk), "confirm": "yes"})

    assert response.url == f"{CONFIRM_URL}?ids={contained.pk}"
    assert Offboarding.objects.get(mode="delete").status == "cancelled"
    contained.refresh_from_db()
    assert contained.status == "succeeded"
    assert user_names(iam) == ["alice"]
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"] == []
    # The baseline role may not remove group memberships, so the plan warned that the group stays.
    kept_group = {"code": "access_path_kept", "field": "groups", "count": 1, "action": "iam:RemoveUserFromGroup"}
    assert kept_group in contained.warnings
    assert [group["GroupName"] for group in iam.list_groups_for_user(UserName="alice")["Groups"]] == ["developers"]


def test_containment_plan_warns_about_kept_group(admin_client, make_integration, make_user, iam):
    integration = make_integration()
    account = make_user(integration, groups=("developers",))

    admin_client.post(PLAN_URL, {"account": str(account.pk), "mode": "contain"})
    contained = Offboarding.objects.get(mode="contain")
    page = admin_client.get(f"{CONFIRM_URL}?ids={contained.pk}").content.decode()

    assert contained.blockers == []
    assert 'id="run-offboarding"' in page
    assert "Containment keeps the user&#x27;s groups (1), so the user can still reach AWS through them." in page
    assert "Add iam:RemoveUserFromGroup to the integration&#x27;s role" in page


def test_plan_export_is_a_dry_run(admin_client, make_integration, make_user, iam, fake_aws):
    integration = make_integration()
    account = make_user(integration)
    run_action(admin_client, "offboard_accounts", CHANGELIST_URL, [account.pk])
    offboarding = Offboarding.objects.get()
    calls_before = dict(fake_aws.calls)

    response = admin_client.get(f"{CONFIRM_URL}?ids={offboarding.pk}&format=json")

    exported = json.loads(response.content)["offboardings"][0]
    assert exported["account"]["name"] == "alice"
    assert [step["action"] for step in exported["steps"]] == [
        "DeleteLoginProfile",
        "DeleteAccessKey",
        "DetachUserPolicy",
        "DeleteUser",
    ]
    assert dict(fake_aws.calls) == calls_before
    assert user_names(iam) == ["alice"]


def test_account_page_has_offboarding_section(admin_client, make_integration, make_user):
    integration = make_integration()
    account = make_user(integration)

    page = admin_client.get(reverse("admin:accounts_saasaccount_change", args=[account.pk])).content.decode()

    assert 'id="offboarding"' in page
    assert 'id="plan-delete"' in page


def test_account_page_action_plans(admin_client, make_integration, make_user):
    integration = make_integration()
    account = make_user(integration)
    url = reverse("admin:accounts_saasaccount_change", args=[account.pk])

    page = admin_client.get(url).content.decode()
    response = admin_client.post(url, {"CHANGE_FORM-action": "offboard_accounts", "_selected_action": [account.pk]})

    assert '<option value="offboard_accounts">' in page
    offboarding = Offboarding.objects.get()
    assert response.url == f"{CONFIRM_URL}?ids={offboarding.pk}"


def test_integration_role_page_offers_nothing(admin_client, make_integration):
    integration = make_integration()
    role = SaaSAccount.objects.create(
        integration=integration, kind="iam_role", provider_id="AROAOWN", name="own", arn=integration.role_arn
    )

    page = admin_client.get(reverse("admin:accounts_saasaccount_change", args=[role.pk])).content.decode()

    assert "This is the role Rollcall uses for this integration" in page
    assert 'id="plan-delete"' not in page


def test_offboard_all_accounts_of_person(
    admin_client, make_integration, make_user, iam, django_capture_on_commit_callbacks
):
    production = make_integration(extended=True)
    staging = make_integration(name="Staging", extended=True)
    person = Person.objects.create(email="alice@example.com", status="left")
    first = make_user(production, "alice", person=person, groups=("developers",))
    second = make_user(staging, "alice-staging", person=person)
    make_user(production, "carol")

    response = run_action(
        admin_client, "offboard_all_accounts", reverse("admin:accounts_person_changelist"), [person.pk]
    )

    offboardings = list(Offboarding.objects.order_by("account__name"))
    assert [o.account for o in offboardings] == [first, second]
    page = admin_client.get(response.url).content.decode()
    assert "alice-staging" in page
    form = {"ids": ",".join(str(o.pk) for o in offboardings), "confirm": "yes"}
    form.update({f"confirm_name_{o.pk}": o.account.name for o in offboardings})
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CONFIRM_URL, form)

    assert set(Offboarding.objects.values_list("status", flat=True)) == {"succeeded"}
    assert user_names(iam) == ["carol"]


def test_person_page_lists_active_accounts(admin_client, make_integration, make_user):
    integration = make_integration()
    person = Person.objects.create(email="alice@example.com", status="left")
    make_user(integration, "alice", person=person)
    removed = make_user(integration, "alice-old", person=person)
    removed.status = "removed"
    removed.save()

    page = admin_client.get(reverse("admin:accounts_person_change", args=[person.pk])).content.decode()

    assert 'id="offboard-all-delete"' in page
    assert "alice (Production, IAM user)" in page
    assert "alice-old (" not in page
    assert reverse("admin:accounts_person_create_iam_user", args=[person.pk]) in page


def test_create_iam_user_shows_calls_first(admin_client, make_integration, iam):
    integration = make_integration()
    person = Person.objects.create(email="dave@example.com")
    url = reverse("admin:accounts_person_create_iam_user", args=[person.pk])

    shown = admin_client.post(url, {"integration": str(integration.pk), "user_name": "dave"})
    assert "CreateUser" in shown.content.decode()
    assert user_names(iam) == []

    created = admin_client.post(url, {"integration": str(integration.pk), "user_name": "dave", "confirm": "yes"})

    account = SaaSAccount.objects.get(name="dave")
    assert created.url == reverse("admin:accounts_saasaccount_change", args=[account.pk])
    assert account.person == person
    assert user_names(iam) == ["dave"]


def test_create_iam_user_rejects_bad_name(admin_client, make_integration, iam):
    integration = make_integration()
    person = Person.objects.create(email="dave@example.com")
    url = reverse("admin:accounts_person_create_iam_user", args=[person.pk])

    response = admin_client.post(url, {"integration": str(integration.pk), "user_name": "dave smith", "confirm": "yes"})

    assert "Invalid IAM user name dave smith" in response.content.decode()
    assert user_names(iam) == []


def test_retry_button_resumes(
    admin_client, make_integration, make_user, iam, fake_aws, django_capture_on_commit_callbacks
):
    integration = make_integration()
    account = make_user(integration, keys=2)
    run_action(admin_client, "offboard_accounts", CHANGELIST_URL, [account.pk])
    offboarding = Offboarding.objects.get()
    fake_aws.inject_fault(action="DeleteAccessKey", nth=2, code="AccessDenied", status=403, message="Denied now")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            CONFIRM_URL,
            {"ids": str(offboarding.pk), "confirm": "yes", f"confirm_name_{offboarding.pk}": "alice"},
        )
    detail_url = reverse("admin:accounts_offboarding_change", args=[offboarding.pk])
    failed_page = admin_client.get(detail_url).content.decode()
    assert "Denied now" in failed_page
    assert 'id="retry-offboarding"' in failed_page

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:accounts_offboarding_retry", args=[offboarding.pk]))

    offboarding.refresh_from_db()
    assert offboarding.status == "succeeded"
    assert user_names(iam) == []


def test_offboarding_list_queries_are_bounded(
    admin_client, make_integration, make_user, django_assert_max_num_queries, django_assert_num_queries
):
    integration = make_integration()
    url = reverse("admin:accounts_offboarding_changelist")
    for index in range(5):
        plan_offboarding(account=make_user(integration, f"user{index}"), mode="contain")
    admin_client.get(url)  # The first request fills per-process caches, such as content types.

    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as five_rows:
        response = admin_client.get(url)
    for index in range(5, 20):
        plan_offboarding(account=make_user(integration, f"user{index}"), mode="contain")

    with django_assert_num_queries(len(five_rows.captured_queries)):
        twenty_rows = admin_client.get(url)

    assert response.status_code == 200
    assert twenty_rows.status_code == 200
    assert len(twenty_rows.context["cl"].result_list) == 20


def test_cancel_button_cancels(admin_client, make_integration, make_user, iam):
    integration = make_integration()
    account = make_user(integration)
    offboarding = plan_offboarding(account=account, mode="contain")
    cancel_url = reverse("admin:accounts_offboarding_cancel", args=[offboarding.pk])

    response = admin_client.post(cancel_url, follow=True)
    again = admin_client.post(cancel_url, follow=True)

    assert "Cancelled. Steps already done in AWS stay done." in response.content.decode()
    assert "Only a planned or failed offboarding can be cancelled" in again.content.decode()
    offboarding.refresh_from_db()
    assert offboarding.status == "cancelled"
    assert offboarding.finished_at is not None
    account.refresh_from_db()
    assert account.status == "active"
    event = AuditEvent.objects.get(action="offboarding.cancel")
    assert event.before == {"offboarding": offboarding.pk, "status": "planned"}
    assert event.after == {"offboarding": offboarding.pk, "status": "cancelled"}
    assert event.actor.username == "admin"
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"] != []


@pytest.mark.parametrize(
    "url_name", ["admin:accounts_saasaccount_offboard_confirm", "admin:accounts_saasaccount_offboard_plan"]
)
def test_staff_without_permission_gets_403(client, db, url_name):
    staff = get_user_model().objects.create_user("viewer", password="pw-for-tests-only", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_saasaccount"))
    client.force_login(staff)

    response = client.post(reverse(url_name), {"ids": "1", "account": "1", "mode": "delete"})

    assert response.status_code == 403
    assert not AuditEvent.objects.exists()

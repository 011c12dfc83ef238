"""Sync runs: collecting an integration and storing its accounts, against the fake AWS."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import AccessKey, Person, SaaSAccount
from audit.models import AuditEvent
from integrations import tasks
from integrations.connectors.aws.policies import BASELINE_ACTIONS, EXTENDED_ACTIONS
from integrations.models import Integration, SyncRun
from integrations.services.collection import run_sync_run

pytestmark = pytest.mark.django_db

ACCOUNT_ID = "222233334444"
POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
CONTACT = {"FullName": "Acme Corp", "PhoneNumber": "+1-555-0100", "CountryCode": "US"}


def connect(fake_aws, *, account_id=ACCOUNT_ID, fast=False, actions=None) -> Integration:
    """Create the customer's role in the fake and an Integration row for it."""
    if account_id not in fake_aws.accounts:
        fake_aws.create_account(account_id, contact_information=CONTACT)
    external_id = f"test-external-id-{account_id}-0123456789abcdef"
    role_arn = fake_aws.create_customer_role(
        account_id=account_id,
        external_id=external_id,
        actions=actions or (EXTENDED_ACTIONS if fast else BASELINE_ACTIONS),
    )
    return Integration.objects.create(
        name=f"AWS {account_id}",
        role_arn=role_arn,
        external_id=external_id,
        aws_account_id=account_id,
        can_collect_fast=fast,
    )


def connect_seed(fake_aws, n_users: int, *, account_id: str, fast: bool) -> Integration:
    description = fake_aws.seed_large(n_users, account_id=account_id)
    role = next(
        role for role in description["accounts"][0]["roles"] if role["policy"] == ("extended" if fast else "baseline")
    )
    return Integration.objects.create(
        name=f"Large {account_id}",
        role_arn=role["role_arn"],
        external_id=role["external_id"],
        aws_account_id=account_id,
        can_collect_fast=fast,
    )


def sync(integration: Integration) -> SyncRun:
    run = SyncRun.objects.create(integration=integration, trigger=SyncRun.Trigger.MANUAL)
    return run_sync_run(sync_run_id=run.pk)


def account(name: str) -> SaaSAccount:
    return SaaSAccount.objects.get(name=name, status__in=["active", "offboarding", "offboarded"])


def test_sync_stores_users_and_roles(fake_aws):
    integration = connect(fake_aws)
    iam = fake_aws.iam(ACCOUNT_ID)
    iam.create_group(GroupName="Developers")
    iam.create_user(UserName="alice", Path="/people/", Tags=[{"Key": "team", "Value": "web"}])
    iam.add_user_to_group(GroupName="Developers", UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="own-bucket", PolicyDocument=POLICY)
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    used = timezone.now().replace(microsecond=0) - timedelta(days=3)
    fake_aws.set_last_used(ACCOUNT_ID, key["AccessKeyId"], when=used, service="s3", region="eu-west-1")

    run = sync(integration)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.strategy == SyncRun.Strategy.PER_USER
    assert run.aws_calls > 0
    alice = account("alice")
    assert alice.kind == SaaSAccount.Kind.IAM_USER
    assert alice.provider_id.startswith("AIDA")
    assert alice.path == "/people/"
    assert alice.groups == ["Developers"]
    assert alice.inline_policies == ["own-bucket"]
    assert alice.attached_policies == []
    assert alice.tags == {"team": "web"}
    assert alice.mfa_enabled is False
    assert alice.mfa_devices == []
    assert alice.last_activity == used
    assert alice.user_type == SaaSAccount.UserType.SYSTEM
    assert alice.user_type_reason == "keys_without_console"
    stored_key = AccessKey.objects.get(account=alice)
    assert stored_key.access_key_id == key["AccessKeyId"]
    assert stored_key.status == "Active"
    assert stored_key.last_used_at == used
    assert stored_key.last_used_service == "s3"
    assert stored_key.last_used_region == "eu-west-1"
    role = account("RollcallAccess")
    assert role.kind == SaaSAccount.Kind.IAM_ROLE
    assert role.trusted_principals == [{"type": "AWS", "id": f"arn:aws:iam::{fake_aws.platform_account_id}:root"}]
    assert role.inline_policies == ["RollcallAccess"]
    assert role.user_type_reason == "iam_role"
    assert (run.seen_count, run.created_count, run.updated_count, run.removed_count) == (2, 2, 0, 0)
    integration.refresh_from_db()
    assert integration.status == Integration.Status.CONNECTED
    assert integration.contact_information["FullName"] == "Acme Corp"
    event = AuditEvent.objects.get(action="sync_run.finished")
    assert event.object_id == str(run.pk)
    assert event.after["created"] == 2


def test_second_sync_updates_only_changes(fake_aws):
    integration = connect(fake_aws)
    iam = fake_aws.iam(ACCOUNT_ID)
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    sync(integration)
    iam.tag_user(UserName="bob", Tags=[{"Key": "team", "Value": "data"}])

    run = sync(integration)

    assert (run.seen_count, run.created_count, run.updated_count, run.removed_count) == (3, 0, 1, 0)
    assert account("bob").tags == {"team": "data"}


def test_recreated_user_is_a_new_account(fake_aws):
    integration = connect(fake_aws)
    iam = fake_aws.iam(ACCOUNT_ID)
    iam.create_user(UserName="alice")
    sync(integration)
    old_id = account("alice").provider_id
    iam.delete_user(UserName="alice")
    iam.create_user(UserName="alice")

    run = sync(integration)

    old = SaaSAccount.objects.get(provider_id=old_id)
    assert old.status == SaaSAccount.Status.REMOVED
    assert old.removed_at == run.finished_at
    new = SaaSAccount.objects.get(name="alice", status=SaaSAccount.Status.ACTIVE)
    assert new.provider_id != old_id
    assert (run.created_count, run.removed_count) == (1, 1)
    event = AuditEvent.objects.get(action="sync_run.finished", object_id=str(run.pk))
    assert event.after["removed_accounts"] == [old_id]
    removal = AuditEvent.objects.get(action="account.removed")
    assert removal.object_id == str(old.pk)
    assert removal.job == f"sync_run:{run.pk}"
    assert (removal.before["status"], removal.after["status"]) == ("active", "removed")
    assert AuditEvent.objects.filter(action="account.created", object_id=str(new.pk)).exists()


def test_offboarding_status_is_kept(fake_aws):
    integration = connect(fake_aws)
    iam = fake_aws.iam(ACCOUNT_ID)
    iam.create_user(UserName="leaving")
    iam.create_user(UserName="gone")
    sync(integration)
    SaaSAccount.objects.filter(name="leaving").update(status=SaaSAccount.Status.OFFBOARDING)
    SaaSAccount.objects.filter(name="gone").update(status=SaaSAccount.Status.OFFBOARDED)
    iam.delete_user(UserName="gone")

    run = sync(integration)

    assert account("leaving").status == SaaSAccount.Status.OFFBOARDING
    assert account("gone").status == SaaSAccount.Status.OFFBOARDED
    assert run.removed_count == 0


def test_contained_user_stays_offboarded(fake_aws):
    integration = connect(fake_aws)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="contained")
    sync(integration)
    SaaSAccount.objects.filter(name="contained").update(status=SaaSAccount.Status.OFFBOARDED)

    sync(integration)

    assert account("contained").status == SaaSAccount.Status.OFFBOARDED


def test_queued_run_of_disabled_integration_fails(fake_aws):
    integration = connect(fake_aws)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="someone")
    run = SyncRun.objects.create(integration=integration, trigger=SyncRun.Trigger.MANUAL)
    Integration.objects.filter(pk=integration.pk).update(status=Integration.Status.DISABLED)

    run = run_sync_run(sync_run_id=run.pk)

    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "IntegrationDisabled"
    assert not SaaSAccount.objects.filter(integration=integration).exists()


def test_failed_sync_changes_nothing(fake_aws):
    integration = connect(fake_aws)
    iam = fake_aws.iam(ACCOUNT_ID)
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    sync(integration)
    before = list(SaaSAccount.objects.order_by("pk").values())
    iam.delete_user(UserName="alice")
    iam.create_user(UserName="carol")
    iam.tag_user(UserName="bob", Tags=[{"Key": "team", "Value": "data"}])
    fake_aws.inject_fault("ListUserTags", nth=2, code="InvalidInput", status=400, message="Broken on purpose.")

    run = sync(integration)

    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "InvalidInput"
    assert "ListUserTags" in run.error_message
    assert list(SaaSAccount.objects.order_by("pk").values()) == before
    integration.refresh_from_db()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "InvalidInput"


def test_denied_subcall_makes_run_partial(fake_aws):
    actions = [action for action in BASELINE_ACTIONS if action != "iam:ListMFADevices"]
    integration = connect(fake_aws, actions=actions)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")

    run = sync(integration)

    assert run.status == SyncRun.Status.PARTIAL
    assert [(warning["code"], warning["action"]) for warning in run.warnings] == [
        ("AccessDenied", "iam:ListMFADevices")
    ]
    alice = account("alice")
    assert alice.mfa_enabled is None
    assert alice.mfa_devices is None
    assert alice.unreadable["mfa_devices"] == "iam:ListMFADevices"


def test_assume_role_failure_fails_run(fake_aws):
    integration = connect(fake_aws)
    integration.external_id = "a-different-external-id-0123456789abcdef"
    integration.save()

    run = sync(integration)

    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "AccessDenied"
    integration.refresh_from_db()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_fix
    assert SaaSAccount.objects.count() == 0


@pytest.mark.parametrize(
    ("key", "value", "email", "warning"),
    [
        ("email", "alice@example.com", "alice@example.com", ""),
        ("EMAIL", "  Alice@Example.COM ", "alice@example.com", ""),
        ("Email", "alice at example", "", "alice at example"),
        ("e-mail", "alice@example.com", "", ""),
    ],
)
def test_email_tag(fake_aws, key, value, email, warning):
    integration = connect(fake_aws)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice", Tags=[{"Key": key, "Value": value}])

    sync(integration)

    alice = account("alice")
    assert alice.email == email
    assert alice.email_source == ("tag" if email else "")
    if warning:
        assert warning in alice.email_warning
    else:
        assert alice.email_warning == ""


def test_email_links_person(fake_aws):
    integration = connect(fake_aws)
    iam = fake_aws.iam(ACCOUNT_ID)
    iam.create_user(UserName="alice", Tags=[{"Key": "Email", "Value": "Alice@Example.com"}])
    iam.create_user(UserName="bob@example.com")
    alice_person = Person.objects.create(email="alice@example.com", name="Alice", kind=Person.Kind.EMPLOYEE)
    bob_person = Person.objects.create(email="bob@example.com", kind=Person.Kind.GUEST)

    sync(integration)

    alice = account("alice")
    assert alice.person == alice_person
    created = AuditEvent.objects.get(action="account.created", object_id=str(alice.pk))
    assert created.after["person"] == alice_person.pk
    assert alice.user_type == SaaSAccount.UserType.EMPLOYEE
    assert alice.user_type_reason == "person"
    assert alice.user_type_reason_params == {"person": "Alice", "kind": "employee"}
    bob = account("bob@example.com")
    assert bob.person == bob_person
    assert bob.email_source == SaaSAccount.EmailSource.USERNAME
    assert bob.user_type == SaaSAccount.UserType.GUEST


def test_person_decisions_survive_sync(fake_aws):
    integration = connect(fake_aws)
    iam = fake_aws.iam(ACCOUNT_ID)
    iam.create_user(UserName="merged", Tags=[{"Key": "email", "Value": "tag@example.com"}])
    iam.create_user(UserName="unmerged", Tags=[{"Key": "email", "Value": "tag@example.com"}])
    iam.create_user(UserName="typed")
    Person.objects.create(email="tag@example.com")
    chosen = Person.objects.create(email="chosen@example.com", kind=Person.Kind.GUEST)
    admin = get_user_model().objects.create_user("admin")
    sync(integration)
    SaaSAccount.objects.filter(name="merged").update(
        person=chosen, email="chosen@example.com", email_source="merge", link_decision="merged"
    )
    SaaSAccount.objects.filter(name="unmerged").update(person=None, link_decision="unmerged")
    SaaSAccount.objects.filter(name="typed").update(
        user_type="employee", user_type_reason="set_by_person", user_type_set_by=admin
    )

    sync(integration)

    merged = account("merged")
    assert merged.person == chosen
    assert (merged.email, merged.email_source) == ("chosen@example.com", "merge")
    assert merged.user_type == SaaSAccount.UserType.GUEST
    unmerged = account("unmerged")
    assert unmerged.person is None
    assert unmerged.user_type == SaaSAccount.UserType.UNKNOWN
    typed = account("typed")
    assert (typed.user_type, typed.user_type_reason) == ("employee", "set_by_person")


def test_bulk_and_per_user_syncs_store_same_accounts(fake_aws):
    integration = connect_seed(fake_aws, 30, account_id="444444444444", fast=True)
    integration.can_collect_fast = False
    integration.save()
    run = sync(integration)
    assert run.strategy == SyncRun.Strategy.PER_USER
    first = stored_accounts(integration)
    integration.can_collect_fast = True
    integration.save()

    run = sync(integration)

    assert run.strategy == SyncRun.Strategy.BULK
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.aws_calls < 10
    assert run.updated_count == 0
    assert stored_accounts(integration) == first


def test_bulk_falls_back_to_per_user_when_denied(fake_aws):
    integration = connect(fake_aws, fast=False)
    integration.can_collect_fast = True
    integration.save()
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")

    run = sync(integration)

    assert run.strategy == SyncRun.Strategy.PER_USER
    assert run.status == SyncRun.Status.PARTIAL
    assert [warning["action"] for warning in run.warnings] == ["iam:GenerateCredentialReport"]
    assert account("alice").groups == []


def stored_accounts(integration: Integration) -> list[dict]:
    accounts = []
    for row in SaaSAccount.objects.filter(integration=integration).order_by("provider_id"):
        values = {name: getattr(row, name) for name in ("provider_id", "name", "arn", "path", "created_in_service")}
        for name in (
            "has_console_password",
            "password_last_used",
            "mfa_enabled",
            "mfa_devices",
            "groups",
            "attached_policies",
            "inline_policies",
            "tags",
            "trusted_principals",
            "service_linked",
            "unreadable",
            "last_activity",
            "email",
            "email_source",
            "email_warning",
            "user_type",
            "user_type_reason",
            "user_type_reason_params",
            "person_id",
            "status",
        ):
            values[name] = getattr(row, name)
        values["keys"] = list(
            row.access_keys.order_by("access_key_id").values(
                "access_key_id", "status", "created", "last_used_at", "last_used_service", "last_used_region"
            )
        )
        accounts.append(values)
    return accounts


@pytest.mark.parametrize("fast", [False, True], ids=["per_user", "bulk"])
def test_query_count_does_not_grow_with_users(fake_aws, fast):
    small = connect_seed(fake_aws, 20, account_id="444444444444", fast=fast)
    large = connect_seed(fake_aws, 200, account_id="555555555555", fast=fast)
    counts = []
    for integration in (small, large):
        run = SyncRun.objects.create(integration=integration, trigger=SyncRun.Trigger.MANUAL)
        with CaptureQueriesContext(connection) as queries:
            run = run_sync_run(sync_run_id=run.pk)
        assert run.status == SyncRun.Status.SUCCEEDED
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert SaaSAccount.objects.filter(integration=large, kind="iam_user").count() == 200


def test_run_that_is_not_queued_is_left_alone(fake_aws):
    integration = connect(fake_aws)
    run = SyncRun.objects.create(integration=integration, trigger=SyncRun.Trigger.MANUAL, status="failed")

    result = run_sync_run(sync_run_id=run.pk)

    assert result.status == SyncRun.Status.FAILED
    assert result.aws_calls == 0


def test_missing_run_is_skipped():
    assert tasks.run_sync(987654) == ""


def test_stale_running_run_is_failed(fake_aws, settings):
    integration = connect(fake_aws)
    started = timezone.now() - timedelta(seconds=settings.JOB_TIMEOUT_SECONDS + 60)
    stale = SyncRun.objects.create(integration=integration, trigger="manual", status="running", started_at=started)

    assert tasks.fail_stale_runs() == 1

    stale.refresh_from_db()
    assert stale.status == SyncRun.Status.FAILED
    assert stale.error_code == "JobTimedOut"
    assert str(settings.JOB_TIMEOUT_SECONDS) in stale.error_message
    SyncRun.objects.create(integration=integration, trigger="manual")


def test_recent_running_run_is_kept(fake_aws):
    integration = connect(fake_aws)
    SyncRun.objects.create(integration=integration, trigger="manual", status="running", started_at=timezone.now())

    assert tasks.fail_stale_runs() == 0


def test_schedule_syncs_enabled_integrations(fake_aws, django_capture_on_commit_callbacks):
    enabled = connect(fake_aws)
    busy = connect(fake_aws, account_id="666666666666")
    disabled = connect(fake_aws, account_id="777777777777")
    disabled.status = Integration.Status.DISABLED
    disabled.save()
    SyncRun.objects.create(integration=busy, trigger="manual")
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")

    with django_capture_on_commit_callbacks(execute=True):
        queued = tasks.sync_all_enabled()

    assert queued == 1
    run = SyncRun.objects.get(integration=enabled)
    assert run.trigger == SyncRun.Trigger.SCHEDULE
    assert run.status == SyncRun.Status.SUCCEEDED
    assert account("alice").integration == enabled
    assert not SyncRun.objects.filter(integration=disabled).exists()
    assert SyncRun.objects.filter(integration=busy).count() == 1


def test_ensure_schedules_is_idempotent(settings):
    settings.SYNC_INTERVAL_MINUTES = 90
    call_command("ensure_schedules")
    settings.SYNC_INTERVAL_MINUTES = 120

    call_command("ensure_schedules")

    sync_schedule = Schedule.objects.get(func="integrations.tasks.sync_all_enabled")
    assert sync_schedule.minutes == 120
    assert sync_schedule.schedule_type == Schedule.MINUTES
    assert sync_schedule.repeats == -1
    assert Schedule.objects.filter(func="integrations.tasks.fail_stale_runs").count() == 1
    assert Schedule.objects.count() == 2

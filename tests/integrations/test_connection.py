"""The connection check service against the fake AWS: success and each failure mode."""

import socket

import pytest
from django.core.cache import cache
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from integrations.connectors.aws import policies
from integrations.connectors.aws.client import platform_account_id
from integrations.models import Integration, SyncRun
from integrations.services.connection import (
    check_connection,
    integrate_aws,
    render_check_detail,
    retry_integration,
    set_integration_enabled,
    update_integration_settings,
)
from integrations.services.sync_queue import SyncAlreadyRunning, SyncNotAllowed, queue_sync
from tests.integrations.conftest import CONTACT, CUSTOMER_ACCOUNT_ID, EXTERNAL_ID

pytestmark = pytest.mark.django_db


def integrate(role_arn: str, external_id: str = EXTERNAL_ID, name: str = ""):
    return integrate_aws(name=name, role_arn=role_arn, external_id=external_id, actor=None)


def checks_by_name(integration: Integration) -> dict[str, dict]:
    return {check["check"]: check for check in integration.checks}


def role_with(fake, **options) -> str:
    fake.create_account(CUSTOMER_ACCOUNT_ID, contact_information=CONTACT)
    options.setdefault("external_id", EXTERNAL_ID)
    return fake.create_customer_role(account_id=CUSTOMER_ACCOUNT_ID, **options)


def test_integrate_connects_and_queues_first_sync(customer_role, queued_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = integrate(customer_role)

    integration = Integration.objects.get()
    assert outcome.result.ok
    assert integration.status == Integration.Status.CONNECTED
    assert integration.name == f"AWS {CUSTOMER_ACCOUNT_ID}"
    assert integration.aws_account_id == CUSTOMER_ACCOUNT_ID
    assert [check["check"] for check in integration.checks] == [
        "assume_role",
        "trust_policy",
        "permissions",
        "contact_information",
    ]
    assert all(check["ok"] for check in integration.checks)
    assert integration.missing_actions == []
    assert integration.last_error_code == ""
    assert integration.checked_at is not None
    assert integration.contact_information["CompanyName"] == "Example Corp"
    assert integration.can_offboard_fully is False
    assert integration.can_collect_fast is False
    run = SyncRun.objects.get()
    assert run.integration == integration
    assert run.trigger == SyncRun.Trigger.INTEGRATE
    assert run.status == SyncRun.Status.QUEUED
    assert queued_tasks() == [("integrations.tasks.run_sync", (run.pk,))]
    assert run.task_id != ""


def test_integrate_records_audit_events(customer_role, queued_tasks):
    integrate(customer_role)

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["integration.created", "integration.checked", "sync_run.queued"]
    for event in AuditEvent.objects.all():
        assert EXTERNAL_ID not in str(event.before) + str(event.after)


def test_baseline_write_actions_are_inferred(customer_role, queued_tasks):
    integrate(customer_role)

    permissions = checks_by_name(Integration.objects.get())["permissions"]
    assert "iam:DeleteUser" in permissions["inferred_actions"]
    assert "iam:CreateUser" in permissions["inferred_actions"]
    assert "iam:DeleteUser" in render_check_detail(permissions)


def test_extended_policy_enables_offboarding_and_bulk(fake_aws, queued_tasks):
    role_arn = role_with(fake_aws, actions=policies.EXTENDED_ACTIONS)

    integrate(role_arn)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.CONNECTED
    assert integration.can_offboard_fully is True
    assert integration.can_collect_fast is True
    assert checks_by_name(integration)["permissions"]["inferred_actions"] == []


def test_extended_policy_missing_delete_is_detected(fake_aws, queued_tasks):
    actions = [action for action in policies.EXTENDED_ACTIONS if action != "iam:DeleteSSHPublicKey"]
    role_arn = role_with(fake_aws, actions=actions)

    integrate(role_arn)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.CONNECTED
    assert integration.can_offboard_fully is False
    assert integration.can_collect_fast is True


def test_wrong_external_id_fails_with_fix(customer_role, queued_tasks):
    outcome = integrate(customer_role, external_id="another-external-id-that-the-role-does-not-require")

    integration = Integration.objects.get()
    assert not outcome.result.ok
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "AssumeRoleDenied"
    assert "AccessDenied" in integration.last_error_message
    assert "external ID" in integration.last_error_fix
    assert fake_aws_platform_id() in integration.last_error_fix
    assert [check["check"] for check in integration.checks] == ["assume_role"]
    assert render_check_detail(integration.checks[0]) == integration.last_error_message
    assert SyncRun.objects.count() == 0
    assert queued_tasks() == []


def fake_aws_platform_id() -> str:
    return "111111111111"


def test_wrong_account_fails_like_denied_assume_role(customer_role, queued_tasks):
    integrate("arn:aws:iam::333333333333:role/RollcallAccess")

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "AssumeRoleDenied"
    assert "right AWS account" in integration.last_error_fix


def test_trust_policy_without_external_id_is_rejected(fake_aws, queued_tasks):
    role_arn = role_with(fake_aws, require_external_id=False)

    integrate(role_arn)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "TrustPolicyNoExternalId"
    assert checks_by_name(integration)["assume_role"]["ok"] is True
    assert checks_by_name(integration)["trust_policy"]["ok"] is False
    assert "sts:ExternalId" in integration.last_error_fix
    assert SyncRun.objects.count() == 0


def test_trust_policy_with_other_account_is_rejected(fake_aws, queued_tasks):
    trust = policies.trust_policy(platform_account_id="111111111111", external_id=EXTERNAL_ID)
    trust["Statement"][0]["Principal"]["AWS"] = [
        "arn:aws:iam::111111111111:root",
        "arn:aws:iam::999999999999:root",
    ]
    role_arn = role_with(fake_aws, trust_policy=trust)

    integrate(role_arn)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "TrustPolicyOtherPrincipal"
    assert "999999999999" in integration.last_error_message


def test_trust_policy_with_several_external_ids_is_rejected(fake_aws, queued_tasks):
    trust = policies.trust_policy(platform_account_id="111111111111", external_id=EXTERNAL_ID)
    trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] = [
        EXTERNAL_ID,
        "someone-elses-id-1234",
    ]
    role_arn = role_with(fake_aws, trust_policy=trust)

    integrate(role_arn)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "TrustPolicyWrongExternalId"


def test_missing_read_permission_is_named(fake_aws, queued_tasks):
    actions = [action for action in policies.BASELINE_ACTIONS if action != "iam:ListMFADevices"]
    role_arn = role_with(fake_aws, actions=actions)

    integrate(role_arn)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "MissingPermissions"
    assert integration.missing_actions == ["iam:ListMFADevices"]
    assert "iam:ListMFADevices" in integration.last_error_message
    assert checks_by_name(integration)["permissions"]["ok"] is False
    assert SyncRun.objects.count() == 0


def test_denied_list_roles_fails_the_trust_check(fake_aws, queued_tasks):
    actions = [action for action in policies.BASELINE_ACTIONS if action != "iam:ListRoles"]
    role_arn = role_with(fake_aws, actions=actions)

    integrate(role_arn)

    integration = Integration.objects.get()
    assert integration.last_error_code == "MissingPermissions"
    assert "iam:ListRoles" in integration.last_error_message
    assert checks_by_name(integration)["trust_policy"]["ok"] is False


def test_missing_contact_permission_is_only_a_warning(fake_aws, queued_tasks):
    actions = [action for action in policies.BASELINE_ACTIONS if action != "account:GetContactInformation"]
    role_arn = role_with(fake_aws, actions=actions)

    integrate(role_arn)

    integration = Integration.objects.get()
    contact = checks_by_name(integration)["contact_information"]
    assert integration.status == Integration.Status.CONNECTED
    assert contact["ok"] is False
    assert contact["warning"] is True
    assert integration.missing_actions == ["account:GetContactInformation"]
    assert SyncRun.objects.count() == 1


def test_throttling_fails_with_retry_advice(customer_role, fake_aws, queued_tasks, settings):
    settings.AWS_MAX_ATTEMPTS = 2
    # botocore's max_attempts counts retries, so the first call and every retry are throttled.
    for nth in range(1, settings.AWS_MAX_ATTEMPTS + 2):
        fake_aws.inject_fault(action="AssumeRole", nth=nth, code="Throttling", status=400, message="Rate exceeded")

    integrate(customer_role)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "Throttled"
    assert "Wait a few minutes" in integration.last_error_fix


def closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def test_unreachable_endpoint_fails_with_network_advice(customer_role, monkeypatch, queued_tasks, settings):
    settings.PLATFORM_AWS_ACCOUNT_ID = "111111111111"
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT_SECONDS = 2
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")

    integrate(customer_role)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "EndpointUnreachable"
    assert "network access" in integration.last_error_fix


def test_missing_platform_credentials_fail_with_server_advice(customer_role, monkeypatch, queued_tasks):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    integrate(customer_role)

    integration = Integration.objects.get()
    assert integration.status == Integration.Status.FAILED
    assert integration.last_error_code == "PlatformCredentials"
    assert "Rollcall server" in integration.last_error_fix


def test_invalid_platform_credentials_fail_with_server_advice(customer_role, monkeypatch, queued_tasks, settings):
    settings.PLATFORM_AWS_ACCOUNT_ID = "111111111111"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXPIREDORUNKNOWN1")

    integrate(customer_role)

    integration = Integration.objects.get()
    assert integration.last_error_code == "PlatformCredentials"
    assert "InvalidClientTokenId" not in integration.last_error_fix


def test_platform_account_id_is_cached(fake_aws):
    assert platform_account_id() == "111111111111"
    assert platform_account_id() == "111111111111"

    assert fake_aws.calls.get("GetCallerIdentity") == 1
    cache.clear()


def test_platform_account_id_setting_skips_sts(fake_aws, settings):
    settings.PLATFORM_AWS_ACCOUNT_ID = "444444444444"

    assert platform_account_id() == "444444444444"
    assert fake_aws.calls.get("GetCallerIdentity", 0) == 0


def test_corrected_external_id_connects_on_save(customer_role, queued_tasks):
    integrate(customer_role, external_id="wrong-external-id-for-this-role-000000")
    integration = Integration.objects.get()

    outcome = update_integration_settings(
        integration=integration,
        name="Production",
        role_arn=customer_role,
        external_id=EXTERNAL_ID,
        actor=None,
    )

    integration.refresh_from_db()
    assert outcome.result.ok
    assert integration.status == Integration.Status.CONNECTED
    assert integration.name == "Production"
    assert integration.last_error_code == ""
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.RETRY


def test_name_change_does_not_check_again(customer_role, queued_tasks, fake_aws):
    integrate(customer_role)
    integration = Integration.objects.get()
    calls_before = fake_aws.calls.total

    outcome = update_integration_settings(
        integration=integration, name="Renamed", role_arn=customer_role, external_id=EXTERNAL_ID, actor=None
    )

    assert outcome is None
    assert fake_aws.calls.total == calls_before
    assert Integration.objects.get().name == "Renamed"


def test_retry_with_active_run_calls_no_aws(customer_role, queued_tasks, fake_aws):
    integrate(customer_role)
    integration = Integration.objects.get()
    calls_before = fake_aws.calls.total

    with pytest.raises(SyncAlreadyRunning) as raised:
        retry_integration(integration=integration, actor=None)

    assert raised.value.run == SyncRun.objects.get()
    assert fake_aws.calls.total == calls_before


def test_retry_after_finished_run_queues_again(customer_role, queued_tasks):
    integrate(customer_role)
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)

    outcome = retry_integration(integration=Integration.objects.get(), actor=None)

    assert outcome.sync_run.trigger == SyncRun.Trigger.RETRY
    assert SyncRun.objects.count() == 2


def test_queue_sync_twice_keeps_one_active_run(customer_role, queued_tasks):
    # queue_sync does not look for an active run first: the second call hits the database
    # constraint, as the slower of two simultaneous requests does.
    integrate(customer_role)
    integration = Integration.objects.get()
    first = SyncRun.objects.get()

    with pytest.raises(SyncAlreadyRunning) as raised:
        queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL)

    assert raised.value.run == first
    assert SyncRun.objects.count() == 1


def test_database_rejects_second_active_run(customer_role, queued_tasks):
    integrate(customer_role)
    integration = Integration.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.create(integration=integration, trigger=SyncRun.Trigger.MANUAL, status="running")


def test_disabled_integration_is_not_synced(customer_role, queued_tasks):
    integrate(customer_role)
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)
    integration = Integration.objects.get()

    set_integration_enabled(integration=integration, enabled=False, actor=None)

    integration.refresh_from_db()
    assert integration.status == Integration.Status.DISABLED
    with pytest.raises(SyncNotAllowed):
        queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL)


def test_enable_checks_and_syncs(customer_role, queued_tasks):
    integrate(customer_role)
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)
    integration = Integration.objects.get()
    set_integration_enabled(integration=integration, enabled=False, actor=None)

    outcome = set_integration_enabled(integration=integration, enabled=True, actor=None)

    assert outcome.result.ok
    assert Integration.objects.get().status == Integration.Status.CONNECTED
    assert SyncRun.objects.filter(status=SyncRun.Status.QUEUED).count() == 1


def test_check_of_disabled_integration_keeps_it_disabled(customer_role, queued_tasks):
    integrate(customer_role)
    integration = Integration.objects.get()
    set_integration_enabled(integration=integration, enabled=False, actor=None)

    check_connection(integration=integration, actor=None)

    assert Integration.objects.get().status == Integration.Status.DISABLED

"""The integrate_aws and sync_integration management commands."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import Integration, SyncRun
from integrations.services.connection import integrate_aws
from tests.integrations.conftest import EXTERNAL_ID

pytestmark = pytest.mark.django_db


def run(*arguments: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(*arguments, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_integrate_aws_prints_id_and_status(customer_role, queued_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        stdout, _stderr = run(
            "integrate_aws", "--role-arn", customer_role, "--external-id", EXTERNAL_ID, "--name", "Prod"
        )

    integration = Integration.objects.get()
    assert stdout.splitlines()[0] == f"integration {integration.pk} connected"
    assert "  permissions: ok:" in stdout
    assert integration.name == "Prod"
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.INTEGRATE
    assert len(queued_tasks()) == 1


def test_integrate_aws_fails_with_exit_status(customer_role, queued_tasks):
    with pytest.raises(CommandError) as raised:
        run("integrate_aws", "--role-arn", customer_role, "--external-id", "not-the-external-id-of-this-role")

    integration = Integration.objects.get()
    assert raised.value.returncode == 1
    assert f"integration {integration.pk} failed" in str(raised.value)
    assert integration.status == Integration.Status.FAILED
    assert SyncRun.objects.count() == 0


def test_integrate_aws_rejects_invalid_input(fake_aws):
    with pytest.raises(CommandError) as raised:
        run("integrate_aws", "--role-arn", "arn:aws:iam::123:role/x", "--external-id", EXTERNAL_ID)

    assert "--role-arn: The AWS account ID “123” is invalid" in str(raised.value)
    assert Integration.objects.count() == 0


def test_integrate_aws_warns_about_short_external_id(fake_aws, customer_role):
    role_arn = fake_aws.create_customer_role(account_id="222222222222", role_name="Short", external_id="abc123")

    _stdout, stderr = run("integrate_aws", "--role-arn", role_arn, "--external-id", "abc123")

    assert "The external ID has only 6 characters" in stderr


def connected(role_arn: str) -> Integration:
    integration = integrate_aws(name="", role_arn=role_arn, external_id=EXTERNAL_ID, actor=None).integration
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)
    return integration


def test_sync_integration_queues_runs(customer_role, queued_tasks, django_capture_on_commit_callbacks):
    integration = connected(customer_role)

    with django_capture_on_commit_callbacks(execute=True):
        stdout, _stderr = run("sync_integration", str(integration.pk))

    run_ = SyncRun.objects.get(status=SyncRun.Status.QUEUED)
    assert stdout == f"integration {integration.pk}: queued run {run_.pk}\n"
    assert run_.trigger == SyncRun.Trigger.MANUAL
    assert queued_tasks()[-1] == ("integrations.tasks.run_sync", (run_.pk,))


def test_sync_integration_all_skips_disabled(customer_role, queued_tasks):
    integration = connected(customer_role)
    Integration.objects.filter(pk=integration.pk).update(status=Integration.Status.DISABLED)

    stdout, _stderr = run("sync_integration", "--all")

    assert stdout == ""
    assert SyncRun.objects.filter(status=SyncRun.Status.QUEUED).count() == 0


def test_sync_integration_reports_active_run(customer_role, queued_tasks):
    integrate_aws(name="", role_arn=customer_role, external_id=EXTERNAL_ID, actor=None)
    active = SyncRun.objects.get()

    stdout, _stderr = run("sync_integration", str(active.integration_id))

    assert stdout == f"integration {active.integration_id}: run {active.pk} is already queued\n"
    assert SyncRun.objects.count() == 1


def test_sync_integration_rejects_unknown_id(fake_aws):
    with pytest.raises(CommandError) as raised:
        run("sync_integration", "999")

    assert "No integration with id 999 exists" in str(raised.value)


def test_sync_integration_needs_ids_or_all(fake_aws):
    with pytest.raises(CommandError):
        run("sync_integration")


def test_sync_integration_wait_runs_in_foreground(fake_aws, customer_role):
    # Needs the collection task integrations.tasks.run_sync.
    fake_aws.iam("222222222222").create_user(UserName="alice")
    integration = connected(customer_role)

    stdout, _stderr = run("sync_integration", str(integration.pk), "--wait")

    run_ = SyncRun.objects.get(trigger=SyncRun.Trigger.MANUAL)
    assert run_.status == SyncRun.Status.SUCCEEDED
    assert stdout.startswith(f"integration {integration.pk}: run {run_.pk} succeeded")
    assert integration.accounts.filter(name="alice").exists()


def test_sync_integration_wait_fails_with_exit_status(fake_aws, customer_role):
    # Needs the collection task integrations.tasks.run_sync.
    integration = connected(customer_role)
    Integration.objects.filter(pk=integration.pk).update(external_id="changed-so-that-assume-role-fails")

    with pytest.raises(CommandError) as raised:
        run("sync_integration", str(integration.pk), "--wait")

    assert raised.value.returncode == 1
    assert SyncRun.objects.get(trigger=SyncRun.Trigger.MANUAL).status == SyncRun.Status.FAILED

"""Sync runs that meet a fault end in a clear status and message, and lose nothing stored."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SaaSAccount
from integrations import tasks
from integrations.connectors.aws.policies import BASELINE_ACTIONS
from integrations.models import Integration, SyncRun
from tests.integrations.test_sync import ACCOUNT_ID, connect, sync

pytestmark = pytest.mark.django_db


def stored_accounts(integration) -> list[tuple]:
    return list(
        SaaSAccount.objects.filter(integration=integration)
        .order_by("provider_id")
        .values_list("provider_id", "name", "status", "tags", "last_seen")
    )


def test_worker_killed_mid_sync_loses_nothing(fake_aws, settings):
    integration = connect(fake_aws)
    iam = fake_aws.iam(ACCOUNT_ID)
    iam.create_user(UserName="alice")
    assert sync(integration).status == SyncRun.Status.SUCCEEDED
    before = stored_accounts(integration)
    iam.create_user(UserName="bob")
    # A worker killed mid-run leaves its run running and stores nothing, because a run stores
    # its accounts in one transaction at the end.
    started = timezone.now() - timedelta(seconds=settings.JOB_TIMEOUT_SECONDS + 1)
    killed = SyncRun.objects.create(
        integration=integration, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.RUNNING, started_at=started
    )

    failed = tasks.fail_stale_runs()

    killed.refresh_from_db()
    assert failed == 1
    assert killed.status == SyncRun.Status.FAILED
    assert killed.error_code == "JobTimedOut"
    assert "worker stopped" in killed.error_message
    assert stored_accounts(integration) == before
    assert sync(integration).status == SyncRun.Status.SUCCEEDED
    assert SaaSAccount.objects.filter(integration=integration, name="bob").exists()


def test_throttling_storm_is_retried(fake_aws, settings):
    settings.AWS_MAX_ATTEMPTS = 8
    integration = connect(fake_aws)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")
    for nth in range(1, 5):
        fake_aws.inject_fault(action="ListUsers", nth=nth, code="Throttling", status=400, message="Rate exceeded")

    run = sync(integration)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.throttled_retries >= 4
    assert SaaSAccount.objects.filter(integration=integration, name="alice").exists()


def test_throttling_beyond_retries_fails_clearly(fake_aws, settings):
    settings.AWS_MAX_ATTEMPTS = 2
    integration = connect(fake_aws)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")
    for nth in range(1, 4):
        fake_aws.inject_fault(action="ListUsers", nth=nth, code="Throttling", status=400, message="Rate exceeded")

    run = sync(integration)

    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "Throttling"
    assert run.error_message
    assert not SaaSAccount.objects.filter(integration=integration).exists()


def test_server_error_on_sub_call(fake_aws, settings):
    settings.AWS_MAX_ATTEMPTS = 1
    integration = connect(fake_aws)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")
    for nth in range(1, 6):
        fake_aws.inject_fault(action="ListUserTags", nth=nth, code="ServiceFailure", status=500)

    run = sync(integration)

    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "ServiceFailure"
    assert run.error_message
    assert not SaaSAccount.objects.filter(integration=integration).exists()


def test_malformed_response_fails_clearly(fake_aws, settings):
    settings.AWS_MAX_ATTEMPTS = 1
    integration = connect(fake_aws)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")
    fake_aws.inject_fault(action="ListUsers", nth=1, kind="malformed")

    run = sync(integration)

    assert run.status == SyncRun.Status.FAILED
    assert run.error_code
    assert run.error_message
    assert not SaaSAccount.objects.filter(integration=integration).exists()


def test_endpoint_that_never_answers_times_out(fake_aws, settings):
    settings.AWS_READ_TIMEOUT_SECONDS = 1
    settings.AWS_MAX_ATTEMPTS = 1
    integration = connect(fake_aws)
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")
    # An endpoint that never responds hangs every attempt, retries included.
    for nth in range(1, 6):
        fake_aws.inject_fault(action="ListUsers", nth=nth, kind="hang", hang_seconds=30)

    started = time.monotonic()
    run = sync(integration)
    elapsed = time.monotonic() - started

    fake_aws.reset()
    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "Timeout"
    assert run.error_message
    assert elapsed < 30


def test_long_unicode_tags_kept_whole(fake_aws):
    integration = connect(fake_aws)
    long_value = "値" * 256
    fake_aws.iam(ACCOUNT_ID).create_user(
        UserName="tanaka",
        Tags=[{"Key": "氏名", "Value": "田中 太郎"}, {"Key": "note", "Value": long_value}],
    )

    run = sync(integration)

    account = SaaSAccount.objects.get(integration=integration, name="tanaka")
    assert run.status == SyncRun.Status.SUCCEEDED
    tags = account.tags if isinstance(account.tags, dict) else {tag["Key"]: tag["Value"] for tag in account.tags}
    assert tags["氏名"] == "田中 太郎"
    assert tags["note"] == long_value


def test_same_account_under_two_roles(fake_aws):
    first = connect(fake_aws)
    second_role = fake_aws.create_customer_role(
        account_id=ACCOUNT_ID,
        role_name="RollcallAccessSecond",
        external_id="second-external-id-0123456789abcdef",
        actions=BASELINE_ACTIONS,
    )
    second = Integration.objects.create(
        name="Second role",
        role_arn=second_role,
        external_id="second-external-id-0123456789abcdef",
        aws_account_id=ACCOUNT_ID,
    )
    fake_aws.iam(ACCOUNT_ID).create_user(UserName="alice")

    assert sync(first).status == SyncRun.Status.SUCCEEDED
    assert sync(second).status == SyncRun.Status.SUCCEEDED

    assert SaaSAccount.objects.filter(integration=first, name="alice").count() == 1
    assert SaaSAccount.objects.filter(integration=second, name="alice").count() == 1

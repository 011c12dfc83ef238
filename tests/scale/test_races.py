"""Races between workers and people on PostgreSQL: nothing is lost and nothing is applied twice.

Each test makes the race happen in a fixed order: one session holds a row lock, and the test waits
until the other session blocks on it (pg_stat_activity) before it lets the first one commit.
"""

import os
import threading

import pytest
from django.db import transaction
from django_q.brokers import get_broker

from accounts.models import Offboarding, Person, SaaSAccount
from accounts.offboarding import services as offboarding_services
from accounts.services.merging import merge_accounts
from audit.models import AuditEvent
from integrations.models import SyncRun
from integrations.services.collection import run_sync_run
from integrations.services.sync_queue import SyncAlreadyRunning, queue_sync
from integrations.tasks import run_sync
from tests.scale.conftest import Worker, wait_for_lock_waits

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def sync_now(integration) -> SyncRun:
    run = queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL, hand_to_worker=False)
    return run_sync_run(sync_run_id=run.pk)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-password-0123")


def test_queue_sync_race_queues_one_run(make_integration):
    integration = make_integration()
    holding = threading.Event()
    release = threading.Event()

    def queue_and_hold():
        with transaction.atomic():
            run = queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL, hand_to_worker=False)
            holding.set()
            assert release.wait(30)
        return run

    first = Worker(queue_and_hold)
    first.start()
    assert holding.wait(30)
    second = Worker(queue_sync, integration=integration, trigger=SyncRun.Trigger.SCHEDULE, hand_to_worker=False)
    second.start()
    wait_for_lock_waits(1)
    release.set()

    winner = first.finish()
    with pytest.raises(SyncAlreadyRunning, match=f"Sync run {winner.pk} of this integration is already queued"):
        second.finish()
    assert list(SyncRun.objects.values_list("pk", "status")) == [(winner.pk, "queued")]


def test_two_workers_run_one_sync_once(make_integration, make_user, fake_aws):
    integration = make_integration()
    make_user(integration, "alice")
    run = queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL, hand_to_worker=False)

    with transaction.atomic():
        SyncRun.objects.select_for_update().get(pk=run.pk)
        workers = [Worker(run_sync, run.pk), Worker(run_sync, run.pk)]
        for worker in workers:
            worker.start()
        wait_for_lock_waits(2)
    statuses = sorted(worker.finish() for worker in workers)

    run.refresh_from_db()
    assert run.status == "succeeded"
    # The loser saw the run running (or already finished) and returned without collecting.
    assert statuses in (["running", "succeeded"], ["succeeded", "succeeded"])
    assert AuditEvent.objects.filter(action="sync_run.finished").count() == 1
    names = set(SaaSAccount.objects.filter(integration=integration).values_list("name", flat=True))
    assert names == {"alice", "RollcallAccessProduction"}


def test_merge_during_sync_write_survives(make_integration, make_user, iam, admin_user):
    integration = make_integration()
    make_user(integration, "alice")
    iam.tag_user(UserName="alice", Tags=[{"Key": "email", "Value": "alice@example.com"}])
    Person.objects.create(email="alice@example.com", name="Alice")
    owner = Person.objects.create(email="owner@example.com", name="Owner")
    assert sync_now(integration).status == "succeeded"
    account = SaaSAccount.objects.get(name="alice")
    assert account.person.email == "alice@example.com"

    # A change in AWS, so that the sync writes alice's row instead of only touching last_seen.
    iam.tag_user(UserName="alice", Tags=[{"Key": "team", "Value": "security"}])
    run = queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL, hand_to_worker=False)
    with transaction.atomic():
        merge_accounts(accounts=[account], person=owner, actor=admin_user)
        sync = Worker(run_sync_run, sync_run_id=run.pk)
        sync.start()
        # The sync finished collecting and waits for the merged account's row lock.
        wait_for_lock_waits(1)
    assert sync.finish().status == "succeeded"

    account.refresh_from_db()
    assert account.tags == {"team": "security", "email": "alice@example.com"}
    assert account.person_id == owner.pk
    assert account.link_decision == SaaSAccount.LinkDecision.MERGED
    assert account.email == "owner@example.com"
    assert account.email_source == SaaSAccount.EmailSource.MERGE


def test_offboarding_during_sync_stays_offboarded(make_integration, make_user, iam):
    integration = make_integration(extended=True)
    make_user(integration, "alice")
    make_user(integration, "bob")
    assert sync_now(integration).status == "succeeded"
    alice = SaaSAccount.objects.get(name="alice")
    iam.tag_user(UserName="alice", Tags=[{"Key": "team", "Value": "security"}])

    run = queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL, hand_to_worker=False)
    with transaction.atomic():
        SaaSAccount.objects.select_for_update().get(pk=alice.pk)
        sync = Worker(run_sync_run, sync_run_id=run.pk)
        sync.start()
        # The sync has listed alice in AWS and waits for her row; now she is deleted.
        wait_for_lock_waits(1)
        offboarding = offboarding_services.plan_offboarding(account=alice, mode=Offboarding.Mode.DELETE)
        offboarding_services.start_offboarding(offboarding=offboarding, typed_name="alice")
        offboarding = offboarding_services.run_offboarding(offboarding_id=offboarding.pk)
        assert offboarding.status == Offboarding.Status.SUCCEEDED
    assert sync.finish().status == "succeeded"

    alice.refresh_from_db()
    assert alice.status == SaaSAccount.Status.OFFBOARDED
    assert SaaSAccount.objects.get(name="bob").status == SaaSAccount.Status.ACTIVE
    assert "alice" not in [user["UserName"] for user in iam.list_users()["Users"]]
    # The next sync no longer finds alice in AWS and leaves her offboarded.
    assert sync_now(integration).status == "succeeded"
    alice.refresh_from_db()
    assert alice.status == SaaSAccount.Status.OFFBOARDED


def test_confirmed_offboarding_during_sync_kept(make_integration, make_user, monkeypatch):
    integration = make_integration(extended=True)
    make_user(integration, "alice")
    assert sync_now(integration).status == "succeeded"
    alice = SaaSAccount.objects.get(name="alice")
    offboarding = offboarding_services.plan_offboarding(account=alice, mode=Offboarding.Mode.CONTAIN)

    # The confirmed offboarding stays queued on the broker instead of running inline.
    monkeypatch.setattr("django_q.tasks.Conf.SYNC", False)
    monkeypatch.setattr("django_q.conf.Conf.CLUSTER_NAME", f"rollcall-test-{os.getpid()}")
    broker = get_broker()
    broker.purge_queue()
    run = queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL, hand_to_worker=False)
    with transaction.atomic():
        offboarding_services.start_offboarding(offboarding=offboarding)
        sync = Worker(run_sync_run, sync_run_id=run.pk)
        sync.start()
        wait_for_lock_waits(1)
    assert sync.finish().status == "succeeded"
    assert broker.queue_size() == 1
    broker.purge_queue()

    alice.refresh_from_db()
    offboarding.refresh_from_db()
    assert offboarding.status == Offboarding.Status.QUEUED
    assert alice.status == SaaSAccount.Status.OFFBOARDING


def test_two_confirmations_queue_one_offboarding(make_integration, make_user, admin_user, django_user_model):
    integration = make_integration(extended=True)
    account = make_user(integration, "alice")
    other_admin = django_user_model.objects.create_superuser("other", "other@example.com", "other-password-0123")
    offboarding = offboarding_services.plan_offboarding(account=account, mode=Offboarding.Mode.DELETE)

    with transaction.atomic():
        Offboarding.objects.select_for_update().get(pk=offboarding.pk)
        workers = [
            Worker(offboarding_services.start_offboarding, offboarding=offboarding, typed_name="alice", actor=user)
            for user in (admin_user, other_admin)
        ]
        for worker in workers:
            worker.start()
        wait_for_lock_waits(2)
    for worker in workers:
        worker.join(60)
    errors = [worker.error for worker in workers if worker.error is not None]

    assert len(errors) == 1
    assert isinstance(errors[0], offboarding_services.OffboardingError)
    assert "was confirmed by someone else" in str(errors[0])
    assert AuditEvent.objects.filter(action="offboarding.confirm").count() == 1
    offboarding.refresh_from_db()
    # The winner's job ran inline when its confirmation committed, exactly once.
    assert offboarding.status == Offboarding.Status.SUCCEEDED
    assert offboarding.attempts == 1

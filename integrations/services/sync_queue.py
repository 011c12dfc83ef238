"""Queueing sync runs: at most one queued or running run per integration, enforced by the database."""

import logging
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_q.tasks import async_task

from audit.services import record_event
from integrations.models import Integration, SyncRun

logger = logging.getLogger(__name__)

RUN_SYNC_TASK = "integrations.tasks.run_sync"


class SyncAlreadyRunning(Exception):
    """A sync run of the integration is already queued or running; `run` is that run."""

    def __init__(self, run: SyncRun):
        self.run = run
        if run.status == SyncRun.Status.RUNNING:
            message = _("Sync run %(run)s of this integration is already running.")
        else:
            message = _("Sync run %(run)s of this integration is already queued.")
        super().__init__(message % {"run": run.pk})


class SyncNotAllowed(Exception):
    """The integration cannot be synced in its current state (for example, it is disabled)."""


def active_run(integration: Integration) -> SyncRun | None:
    return integration.sync_runs.filter(status__in=SyncRun.ACTIVE_STATUSES).order_by("-id").first()


def queue_sync(*, integration: Integration, trigger: str, actor=None, hand_to_worker: bool = True) -> SyncRun:
    """Create a queued SyncRun and hand it to django-q2 once the transaction commits.

    With hand_to_worker=False the caller runs the collection itself (integrations.tasks.run_sync),
    as `sync_integration --wait` does.

    Raises SyncAlreadyRunning when the integration already has a queued or running run (the
    partial unique constraint one_active_sync_run_per_integration decides races), and
    SyncNotAllowed when the integration is disabled.
    """
    if integration.status == Integration.Status.DISABLED:
        raise SyncNotAllowed(_("The integration is disabled. Enable it before syncing."))

    with transaction.atomic():
        try:
            with transaction.atomic():
                run = SyncRun.objects.create(integration=integration, trigger=trigger)
        except IntegrityError:
            existing = active_run(integration)
            if existing is None:
                raise
            logger.info("Sync not queued: integration=%s already has run=%s", integration.pk, existing.pk)
            raise SyncAlreadyRunning(existing) from None
        record_event(
            action="sync_run.queued",
            target=run,
            actor=actor,
            job="" if actor else f"{trigger} of integration {integration.pk}",
            after={"integration": integration.pk, "trigger": trigger, "status": run.status},
        )
        if hand_to_worker:
            transaction.on_commit(partial(_hand_to_worker, run.pk))
    logger.info("Queued sync integration=%s run=%s trigger=%s", integration.pk, run.pk, trigger)
    return run


def _hand_to_worker(run_id: int) -> None:
    """Queue the django-q2 task of a committed run; mark the run failed when the broker refuses it."""
    try:
        task_id = async_task(RUN_SYNC_TASK, run_id, task_name=f"sync-run-{run_id}", group="sync")
    except Exception as error:
        # The broker (database or Redis) can fail in many ways. A run left queued would block every
        # later sync of its integration, so it is closed as failed instead.
        logger.exception("Could not queue run=%s", run_id)
        SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
            status=SyncRun.Status.FAILED,
            error_code="QueueUnavailable",
            error_message=str(error)[:1000],
            finished_at=timezone.now(),
        )
        return
    SyncRun.objects.filter(pk=run_id, task_id="").update(task_id=str(task_id or ""))

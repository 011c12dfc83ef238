"""django-q2 tasks of the integrations app. Each is a thin wrapper around a service and takes ids."""

import logging

from django.db import IntegrityError, transaction
from django_q.tasks import async_task

from accounts.offboarding.services import fail_stale_offboardings
from integrations.models import Integration, SyncRun
from integrations.services.collection import fail_stale_runs as fail_stale_sync_runs
from integrations.services.collection import run_sync_run

logger = logging.getLogger(__name__)


def run_sync(sync_run_id: int) -> str:
    """Run one queued sync run and return its final status."""
    return run_sync_run(sync_run_id=sync_run_id).status


def fail_stale_runs() -> int:
    """Mark failed the sync runs and offboardings whose worker died; return how many.

    A failed sync run lets new runs start, and a failed offboarding can be retried.
    """
    return fail_stale_sync_runs() + fail_stale_offboardings()


def sync_all_enabled() -> int:
    """Queue a scheduled sync of every integration that is not disabled; return how many were queued.

    An integration that already has a queued or running run is skipped: the database allows only one.
    """
    fail_stale_sync_runs()
    queued = 0
    integration_ids = Integration.objects.exclude(status=Integration.Status.DISABLED).values_list("pk", flat=True)
    for integration_id in integration_ids:
        # TODO: call integrations.services.sync_queue.queue_sync once it is in this branch, so that
        # every trigger queues runs the same way.
        try:
            with transaction.atomic():
                run = SyncRun.objects.create(integration_id=integration_id, trigger=SyncRun.Trigger.SCHEDULE)
                transaction.on_commit(lambda pk=run.pk: async_task("integrations.tasks.run_sync", pk))
        except IntegrityError:
            logger.info("Scheduled sync skipped integration=%s: a run is already queued or running", integration_id)
            continue
        queued += 1
    logger.info("Scheduled syncs queued=%s", queued)
    return queued

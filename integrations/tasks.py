"""django-q2 tasks of the integrations app. Each is a thin wrapper around a service and takes ids."""

import logging

from accounts.offboarding.services import fail_stale_offboardings
from integrations.models import Integration, SyncRun
from integrations.services.collection import fail_stale_runs as fail_stale_sync_runs
from integrations.services.collection import run_sync_run
from integrations.services.sync_queue import SyncAlreadyRunning, SyncNotAllowed, queue_sync

logger = logging.getLogger(__name__)


def run_sync(sync_run_id: int) -> str:
    """Run one queued sync run and return its final status, or "" when the run no longer exists."""
    run = run_sync_run(sync_run_id=sync_run_id)
    return run.status if run else ""


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
    for integration in Integration.objects.exclude(status=Integration.Status.DISABLED).order_by("pk"):
        try:
            queue_sync(integration=integration, trigger=SyncRun.Trigger.SCHEDULE)
        except SyncAlreadyRunning as error:
            logger.info("Scheduled sync skipped integration=%s: run=%s is active", integration.pk, error.run.pk)
            continue
        except SyncNotAllowed:
            logger.info("Scheduled sync skipped integration=%s: disabled meanwhile", integration.pk)
            continue
        queued += 1
    logger.info("Scheduled syncs queued=%s", queued)
    return queued

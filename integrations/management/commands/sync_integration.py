import logging

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from integrations.models import Integration, SyncRun
from integrations.services.sync_queue import SyncAlreadyRunning, SyncNotAllowed, queue_sync

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Queue a sync of the given integrations (or of every enabled one with --all). With --wait, run "
        "each sync in this process instead, print its result, and exit with status 1 when one fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("integration_ids", nargs="*", type=int, metavar="ID", help="Integration ids.")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="all_integrations",
            help="Sync every integration that is not disabled.",
        )
        parser.add_argument("--wait", action="store_true", help="Run the syncs here and wait for each to finish.")

    def handle(self, *args, integration_ids, all_integrations, wait, **options):
        if all_integrations == bool(integration_ids):
            raise CommandError(_("Give either integration ids or --all, not both and not neither."))
        if all_integrations:
            integrations = list(Integration.objects.exclude(status=Integration.Status.DISABLED).order_by("id"))
        else:
            found = Integration.objects.in_bulk(integration_ids)
            missing = [str(pk) for pk in integration_ids if pk not in found]
            if missing:
                raise CommandError(
                    _("No integration with id %(ids)s exists; nothing was queued.") % {"ids": ", ".join(missing)}
                )
            integrations = [found[pk] for pk in integration_ids]

        failures = 0
        for integration in integrations:
            try:
                run = queue_sync(
                    integration=integration,
                    trigger=SyncRun.Trigger.MANUAL,
                    actor=None,
                    hand_to_worker=not wait,
                )
            except SyncAlreadyRunning as error:
                self.stdout.write(f"integration {integration.pk}: run {error.run.pk} is already {error.run.status}")
                failures += wait
                continue
            except SyncNotAllowed as error:
                self.stdout.write(f"integration {integration.pk}: {error}")
                failures += 1
                continue
            if not wait:
                self.stdout.write(f"integration {integration.pk}: queued run {run.pk}")
                continue
            run = self._run(run)
            self.stdout.write(self._describe(integration, run))
            if run.status == SyncRun.Status.FAILED:
                failures += 1

        if failures:
            raise CommandError(
                _("%(failures)s of %(count)s syncs failed or did not run.")
                % {"failures": failures, "count": len(integrations)},
                returncode=1,
            )

    @staticmethod
    def _run(run: SyncRun) -> SyncRun:
        # The collection lives in integrations.tasks (the django-q2 task); --wait calls it directly.
        from integrations.tasks import run_sync

        logger.info("Running sync in the foreground run=%s", run.pk)
        run_sync(run.pk)
        run.refresh_from_db()
        return run

    @staticmethod
    def _describe(integration: Integration, run: SyncRun) -> str:
        duration = ""
        if run.started_at and run.finished_at:
            duration = f" in {(run.finished_at - run.started_at).total_seconds():.1f}s"
        line = (
            f"integration {integration.pk}: run {run.pk} {run.status}{duration}: seen {run.seen_count}, "
            f"created {run.created_count}, updated {run.updated_count}, removed {run.removed_count}, "
            f"AWS calls {run.aws_calls}, warnings {len(run.warnings)}"
        )
        if run.error_message:
            line += f"\n  {run.error_code}: {run.error_message}"
        return line

"""Create or update the django-q2 schedules of Rollcall's periodic jobs from the settings."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_q.models import Schedule

# How often runs whose worker died are looked for, in minutes.
STALE_RUN_CHECK_MINUTES = 5


def expected_schedules() -> list[dict]:
    return [
        {
            "name": "Sync every enabled integration",
            "func": "integrations.tasks.sync_all_enabled",
            "minutes": settings.SYNC_INTERVAL_MINUTES,
        },
        {
            "name": "Fail stale sync runs",
            "func": "integrations.tasks.fail_stale_runs",
            "minutes": STALE_RUN_CHECK_MINUTES,
        },
    ]


class Command(BaseCommand):
    help = "Create or update the schedules of periodic jobs (syncs every SYNC_INTERVAL_MINUTES minutes)."

    def handle(self, *args, **options):
        with transaction.atomic():
            for expected in expected_schedules():
                schedule, created = Schedule.objects.update_or_create(
                    func=expected["func"],
                    defaults={
                        "name": expected["name"],
                        "schedule_type": Schedule.MINUTES,
                        "minutes": expected["minutes"],
                        "repeats": -1,
                    },
                )
                verb = "Created" if created else "Updated"
                self.stdout.write(f"{verb} schedule {schedule.name!r}: every {schedule.minutes} minutes.")

"""Plan or run offboardings from the command line, through the same services as the admin."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Offboarding, SaaSAccount
from accounts.offboarding import planning, services

JOB_NAME = "manage.py offboard"
POLL_SECONDS = 1.0


class Command(BaseCommand):
    help = (
        "Print the offboarding plan of each account (--plan), or run the offboardings and wait for "
        "them (--yes). Exits with status 1 when any account is blocked or fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("accounts", nargs="+", metavar="ACCOUNT_ID", help="SaaSAccount primary key or IAM ARN.")
        parser.add_argument("--mode", choices=Offboarding.Mode.values, required=True)
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument(
            "--plan",
            action="store_true",
            help="Store and print each plan and its blockers; change nothing in AWS.",
        )
        action.add_argument("--yes", action="store_true", help="Run the offboardings and wait for each result.")
        parser.add_argument(
            "--timeout",
            type=int,
            default=1800,
            help="Seconds to wait for the jobs to finish (default 1800). Needs a running qcluster worker.",
        )

    def handle(self, *args, accounts, mode, plan, yes, timeout, **options):
        resolved = [self._find(identifier) for identifier in accounts]
        problems = 0
        planned: list[Offboarding] = []
        for account in resolved:
            try:
                offboarding = services.plan_offboarding(account=account, mode=mode, job=JOB_NAME)
            except services.OffboardingError as error:
                self.stderr.write(f"{account.name}: {error.message}")
                problems += 1
                continue
            self._print_plan(offboarding)
            if offboarding.is_blocked:
                problems += 1
            else:
                planned.append(offboarding)

        if yes:
            started = []
            for offboarding in planned:
                try:
                    started.append(
                        services.start_offboarding(
                            offboarding=offboarding, typed_name=offboarding.account.name, job=JOB_NAME
                        )
                    )
                except services.OffboardingError as error:
                    self.stderr.write(f"{offboarding.account.name}: {error.message}")
                    problems += 1
            for offboarding in self._wait(started, timeout=timeout):
                line = f"{offboarding.account.name}: {offboarding.status}"
                if offboarding.status != Offboarding.Status.SUCCEEDED:
                    problems += 1
                    if offboarding.error_message:
                        line += f" at step {offboarding.current_step}: {offboarding.error_message}"
                self.stdout.write(line)

        if problems:
            raise CommandError(_("%(count)s account(s) blocked or failed.") % {"count": problems}, returncode=1)

    def _find(self, identifier: str) -> SaaSAccount:
        query = Q(arn=identifier) if not identifier.isdigit() else Q(pk=int(identifier))
        matches = list(SaaSAccount.objects.filter(query).select_related("integration")[:2])
        if not matches:
            raise CommandError(
                _("Account %(account)s not found: give a SaaSAccount id or an IAM ARN.") % {"account": identifier}
            )
        if len(matches) > 1:
            raise CommandError(
                _("ARN %(arn)s matches several accounts: give the SaaSAccount id instead.") % {"arn": identifier}
            )
        return matches[0]

    def _print_plan(self, offboarding: Offboarding) -> None:
        account = offboarding.account
        self.stdout.write(
            f"{account.name} ({account.arn}) in {account.integration.name}: "
            f"{offboarding.get_mode_display()}, offboarding {offboarding.pk}"
        )
        for step in offboarding.steps.all():
            self.stdout.write(f"  {step.position}. {step.action} {step.parameters}")
        for blocker in offboarding.blockers:
            self.stdout.write(f"  BLOCKED: {planning.render(blocker)}")
        for warning in offboarding.warnings:
            self.stdout.write(f"  WARNING: {planning.render(warning)}")

    def _wait(self, offboardings: list[Offboarding], *, timeout: int) -> list[Offboarding]:
        deadline = timezone.now().timestamp() + timeout
        ids = [offboarding.pk for offboarding in offboardings]
        while True:
            current = list(Offboarding.objects.filter(pk__in=ids).select_related("account").order_by("pk"))
            waiting = [o for o in current if o.status in Offboarding.ACTIVE_STATUSES]
            if not waiting or timezone.now().timestamp() >= deadline:
                return current
            time.sleep(POLL_SECONDS)

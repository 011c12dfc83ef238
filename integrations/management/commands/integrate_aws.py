from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from integrations.forms import IntegrationForm
from integrations.services.connection import describe_last_error, integrate_aws, render_check_detail


class Command(BaseCommand):
    help = (
        "Integrate an AWS account through a role, as the admin's setup page does: save the integration, "
        "check the connection and queue the first sync. Prints the integration's id and status; exits "
        "with status 1 when the connection check fails (the integration is saved as failed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role-arn", required=True, help="ARN of the customer's IAM role.")
        parser.add_argument("--external-id", required=True, help="External ID that the role's trust policy requires.")
        parser.add_argument("--name", default="", help="Display name; defaults to “AWS” and the account ID.")

    def handle(self, *args, role_arn, external_id, name, **options):
        form = IntegrationForm({"name": name, "role_arn": role_arn, "external_id": external_id})
        if not form.is_valid():
            problems = "; ".join(
                f"--{field.replace('_', '-')}: {' '.join(errors)}" for field, errors in form.errors.items()
            )
            raise CommandError(_("Invalid input, nothing was saved. %(problems)s") % {"problems": problems})
        for warning in form.warnings:
            self.stderr.write(self.style.WARNING(warning))

        outcome = integrate_aws(actor=None, **form.cleaned_data)
        integration = outcome.integration
        self.stdout.write(f"integration {integration.pk} {integration.status}")
        for check in integration.checks:
            if check["ok"]:
                state = "ok"
            elif check.get("warning"):
                state = "warning"
            else:
                state = "failed"
            self.stdout.write(f"  {check['check']}: {state}: {render_check_detail(check)}")
        if outcome.sync_run is not None:
            self.stdout.write(f"  sync run {outcome.sync_run.pk} {outcome.sync_run.status}")
        if not outcome.result.ok:
            error = describe_last_error(integration)
            self.stderr.write(f"{error.message}\n{error.fix}")
            raise CommandError(
                _("The connection check of integration %(id)s failed.") % {"id": integration.pk}, returncode=1
            )

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import SaaSAccount
from accounts.services import export
from integrations.models import Integration


class Command(BaseCommand):
    help = "Export accounts, with their person and access keys, as CSV or JSON to standard output or a file."

    def add_arguments(self, parser):
        parser.add_argument("--integration", type=int, help="Export only the accounts of this integration ID.")
        parser.add_argument(
            "--format",
            dest="output_format",
            choices=["csv", "json"],
            default="csv",
            help="Output format (default csv).",
        )
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args, integration=None, output_format="csv", output=None, **options):
        accounts = SaaSAccount.objects.all()
        if integration is not None:
            if not Integration.objects.filter(pk=integration).exists():
                raise CommandError(
                    _("Integration %(id)s not found. Find the integration's ID in the admin under Integrations.")
                    % {"id": integration}
                )
            accounts = accounts.filter(integration_id=integration)
        records = export.iter_records(accounts)
        chunks = export.iter_csv(records) if output_format == "csv" else export.iter_json(records)
        if output:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                stream.writelines(chunks)
            return
        for chunk in chunks:
            self.stdout.write(chunk, ending="")

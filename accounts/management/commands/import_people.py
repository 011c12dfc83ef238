from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.services.people_import import PeopleImportError, import_people


class Command(BaseCommand):
    help = (
        "Import the people directory from a CSV file with the columns email,name,kind,status,left_on. "
        "A file with any invalid row imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV file in UTF-8 (with or without BOM) or Shift_JIS.")

    def handle(self, *args, file: Path, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s.") % {"file": file, "error": error.strerror}
            ) from error
        try:
            result = import_people(file=data, actor=None, job="import_people command")
        except PeopleImportError as error:
            for row_error in error.errors:
                self.stderr.write(f"{file}:{row_error.line}: {row_error.message}")
            raise CommandError(
                _("Imported nothing: %(count)s invalid row(s) in %(file)s. Correct them and run again.")
                % {"count": len(error.errors), "file": file}
            ) from error
        self.stdout.write(
            _(
                "Imported %(file)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged; "
                "%(linked)s account(s) linked to them by email."
            )
            % {
                "file": file,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "linked": result.linked,
            }
        )

"""Importing the people directory from CSV.

The columns are `email,name,kind,status,left_on`. Every row is validated before anything is
written: a file with any invalid row imports nothing. Rows are matched to people by email,
case-insensitively, so importing the same file twice changes nothing the second time.
"""

import csv
import datetime
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts.models import Person
from accounts.services.evidence import clean_email
from accounts.services.linking import link_accounts_to_people
from audit.services import record_event

logger = logging.getLogger(__name__)

COLUMNS = ("email", "name", "kind", "status", "left_on")
REQUIRED_COLUMNS = ("email",)
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True)
class PersonRow:
    line: int
    email: str
    name: str
    kind: str
    status: str
    left_on: datetime.date | None


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Accounts linked to the imported people by their email tag or user name.
    linked: int = 0


@dataclass
class PeopleImportError(Exception):
    """Raised when a file has invalid rows; nothing was imported."""

    errors: list[RowError] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(f"line {error.line}: {error.message}" for error in self.errors)


def decode_csv(data: bytes) -> str:
    """Decode CSV bytes from UTF-8 (with or without Excel's BOM) or Shift_JIS (Windows code page 932)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError as error:
        raise PeopleImportError(
            [
                RowError(
                    0,
                    _("The file is neither UTF-8 nor Shift_JIS. Save it as CSV UTF-8 and import it again."),
                )
            ]
        ) from error


def _parse_date(value: str) -> datetime.date | None:
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, date_format).date()
        except ValueError:
            continue
    return None


def _validate_row(line: int, values: dict[str, str]) -> tuple[PersonRow | None, list[RowError]]:
    errors = []
    raw_email = values.get("email", "").strip()
    email = clean_email(raw_email)
    if not raw_email:
        errors.append(RowError(line, _("The email is missing.")))
    elif not email:
        message = _("The email %(email)s is not a valid email address.") % {"email": raw_email}
        errors.append(RowError(line, message))

    kind = values.get("kind", "").strip().lower() or Person.Kind.EMPLOYEE
    if kind not in Person.Kind.values:
        errors.append(RowError(line, _("The kind %(kind)s is invalid: use employee or guest.") % {"kind": kind}))

    status = values.get("status", "").strip().lower() or Person.Status.ACTIVE
    if status not in Person.Status.values:
        errors.append(
            RowError(
                line,
                _("The status %(status)s is invalid: use active, on_leave or left.") % {"status": status},
            )
        )

    raw_left_on = values.get("left_on", "").strip()
    left_on = None
    if raw_left_on:
        left_on = _parse_date(raw_left_on)
        if left_on is None:
            errors.append(
                RowError(
                    line,
                    _("The date left_on %(value)s is invalid: use YYYY-MM-DD, for example 2026-03-31.")
                    % {"value": raw_left_on},
                )
            )
    name = values.get("name", "").strip()
    max_name_length = Person._meta.get_field("name").max_length
    if len(name) > max_name_length:
        errors.append(
            RowError(
                line,
                _("The name is %(length)s characters long: shorten it to at most %(max)s.")
                % {"length": len(name), "max": max_name_length},
            )
        )
    if errors:
        return None, errors
    row = PersonRow(line, email, name, kind, status, left_on)
    return row, []


def _read_header(reader) -> list[str]:
    """Read the header row and return its column names, raising PeopleImportError when it is invalid."""
    try:
        header = next(reader)
    except StopIteration:
        message = _("The file is empty. Add a header row: %(columns)s.") % {"columns": ",".join(COLUMNS)}
        raise PeopleImportError([RowError(1, message)]) from None
    except csv.Error as error:
        message = _("The header row is not valid CSV: %(error)s.") % {"error": error}
        raise PeopleImportError([RowError(1, message)]) from None

    names = [name.strip().lower() for name in header]
    # Excel adds empty header cells after the last column; they name no column and are ignored.
    named = [name for name in names if name]
    unknown = [name for name in named if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in named]
    repeated = len(set(named)) != len(named)
    if unknown or missing or repeated:
        message = _(
            "The header row must name each of the columns %(columns)s at most once, with email "
            "required, but it is %(found)s."
        ) % {"columns": ",".join(COLUMNS), "found": ",".join(header)}
        raise PeopleImportError([RowError(1, message)])
    return names


def parse_people_csv(text: str) -> list[PersonRow]:
    """Parse and validate every row of a people CSV, raising PeopleImportError listing each bad row.

    Line numbers count from the header as line 1. A row that spans lines (a quoted line break)
    is reported at its first line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    names = _read_header(reader)
    if not text.strip().partition("\n")[2].strip():
        raise PeopleImportError([RowError(2, _("The file has a header row but no people. Add a row for each person."))])
    rows: list[PersonRow] = []
    errors: list[RowError] = []
    first_line_of_email: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            message = _("The row is not valid CSV: %(error)s.") % {"error": error}
            errors.append(RowError(line, message))
            break

        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            message = _("The row has %(count)s cells but the header names %(expected)s columns.") % {
                "count": len(cells),
                "expected": len(names),
            }
            errors.append(RowError(line, message))
            continue

        row, row_errors = _validate_row(line, dict(zip(names, cells, strict=False)))
        errors.extend(row_errors)
        if row is None:
            continue
        if row.email in first_line_of_email:
            message = _("The email %(email)s is already on line %(first)s.") % {
                "email": row.email,
                "first": first_line_of_email[row.email],
            }
            errors.append(RowError(line, message))
            continue
        first_line_of_email[row.email] = line
        rows.append(row)

    if errors:
        raise PeopleImportError(errors)
    return rows


@transaction.atomic
def import_people(*, rows: Iterable[PersonRow] | None = None, file=None, actor=None, job: str = "") -> ImportResult:
    """Create or update people from validated rows or from a CSV file (bytes or a binary file object).

    Raises PeopleImportError, having written nothing, when any row is invalid.
    """
    if (rows is None) == (file is None):
        raise ValueError("Pass exactly one of rows or file.")
    if file is not None:
        data = file if isinstance(file, bytes) else file.read()
        rows = parse_people_csv(decode_csv(data))
    rows = list(rows)
    emails = [row.email for row in rows]
    matches = Person.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
    existing = {person.email_lower: person for person in matches}
    result = ImportResult()
    imported: list[Person] = []
    for row in rows:
        fields = {"name": row.name, "kind": row.kind, "status": row.status, "left_on": row.left_on}
        person = existing.get(row.email)
        if person is None:
            person = Person.objects.create(email=row.email, **fields)
            imported.append(person)
            record_event(
                action="person.created",
                target=person,
                actor=actor,
                job=job,
                after={**fields, "email": row.email, "left_on": str(row.left_on or "")},
            )
            result.created += 1
            continue
        imported.append(person)
        before = {name: getattr(person, name) for name in fields}
        if before == fields:
            result.unchanged += 1
            continue
        for name, value in fields.items():
            setattr(person, name, value)
        person.save()
        record_event(
            action="person.updated",
            target=person,
            actor=actor,
            job=job,
            before={**before, "left_on": str(before["left_on"] or "")},
            after={**fields, "left_on": str(row.left_on or "")},
        )
        result.updated += 1
    result.linked = link_accounts_to_people(people=imported, actor=actor, job=job)
    logger.info(
        "people imported created=%s updated=%s unchanged=%s linked=%s",
        result.created,
        result.updated,
        result.unchanged,
        result.linked,
    )
    return result

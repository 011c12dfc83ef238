"""Exporting accounts as JSON or CSV, one object or row per account.

A value that could not be collected is null in JSON and an empty cell in CSV; an empty list is
`[]`. CSV starts with a UTF-8 byte order mark so that Excel reads Japanese text correctly, and
list and object values are written as JSON text in their cell.
"""

import csv
import datetime
import io
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from accounts.models import Person, SaaSAccount
from audit.spreadsheet import spreadsheet_safe

FIELDS = (
    "integration",
    "kind",
    "provider_id",
    "name",
    "arn",
    "status",
    "user_type",
    "user_type_reason",
    "email",
    "email_source",
    "person_email",
    "person_status",
    "retiree",
    "console_password_last_used",
    "mfa_enabled",
    "access_keys",
    "groups",
    "attached_policies",
    "inline_policies",
    "tags",
    "last_activity",
    "first_seen",
    "last_seen",
)
CHUNK_SIZE = 2000


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_queryset(queryset: QuerySet[SaaSAccount]) -> QuerySet[SaaSAccount]:
    """Return `queryset` with what the export reads fetched in a fixed number of queries per chunk."""
    return queryset.select_related("integration", "person").prefetch_related("access_keys").order_by("pk")


def account_record(account: SaaSAccount) -> dict:
    """Return one account as a dict with the export's keys, in order."""
    person = account.person
    return {
        "integration": account.integration.name,
        "kind": account.kind,
        "provider_id": account.provider_id,
        "name": account.name,
        "arn": account.arn,
        "status": account.status,
        "user_type": account.user_type,
        "user_type_reason": account.user_type_reason_text,
        "email": account.email,
        "email_source": account.email_source,
        "person_email": person.email if person else None,
        "person_status": person.status if person else None,
        "retiree": bool(person and person.status == Person.Status.LEFT),
        "console_password_last_used": _iso(account.password_last_used),
        "mfa_enabled": account.mfa_enabled,
        "access_keys": [
            {
                "access_key_id": key.access_key_id,
                "status": key.status,
                "created": _iso(key.created),
                "last_used": _iso(key.last_used_at),
            }
            for key in account.access_keys.all()
        ],
        "groups": account.groups,
        "attached_policies": account.attached_policies,
        "inline_policies": account.inline_policies,
        "tags": account.tags,
        "last_activity": _iso(account.last_activity),
        "first_seen": _iso(account.first_seen),
        "last_seen": _iso(account.last_seen),
    }


def iter_records(queryset: QuerySet[SaaSAccount]) -> Iterator[dict]:
    for account in export_queryset(queryset).iterator(chunk_size=CHUNK_SIZE):
        yield account_record(account)


def iter_json(records: Iterable[dict]) -> Iterator[str]:
    """Yield a JSON array of `records` piece by piece, so a large export is never held in memory."""
    yield "["
    for index, record in enumerate(records):
        yield ("," if index else "") + "\n" + json.dumps(record, ensure_ascii=False)
    yield "\n]\n"


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return spreadsheet_safe(str(value))


def iter_csv(records: Iterable[dict]) -> Iterator[str]:
    """Yield CSV text for `records`, starting with a byte order mark and a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(FIELDS)
    for record in records:
        writer.writerow([_csv_cell(record[name]) for name in FIELDS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()

"""Rows for the account tests, created directly in the database (no AWS needed)."""

import datetime
import itertools

from django.utils import timezone

from accounts.models import AccessKey, Person, SaaSAccount
from integrations.models import Integration

_sequence = itertools.count(1)


def make_integration(name: str = "Production", *, status: str = Integration.Status.CONNECTED) -> Integration:
    number = next(_sequence)
    account_id = f"{number:012d}"
    return Integration.objects.create(
        name=name,
        role_arn=f"arn:aws:iam::{account_id}:role/RollcallAccess",
        external_id=f"external-id-{number:032d}",
        aws_account_id=account_id,
        status=status,
    )


def make_person(email: str, *, name: str = "", kind: str = "employee", status: str = "active") -> Person:
    return Person.objects.create(email=email, name=name, kind=kind, status=status)


def make_account(integration: Integration, name: str, **fields) -> SaaSAccount:
    number = next(_sequence)
    kind = fields.pop("kind", SaaSAccount.Kind.IAM_USER)
    prefix = "AIDA" if kind == SaaSAccount.Kind.IAM_USER else "AROA"
    resource = "user" if kind == SaaSAccount.Kind.IAM_USER else "role"
    values = {
        "provider_id": f"{prefix}{number:017d}",
        "arn": f"arn:aws:iam::{integration.aws_account_id}:{resource}/{name}",
        "user_type": SaaSAccount.UserType.UNKNOWN,
        "user_type_reason": "no_evidence",
        "last_seen": timezone.now(),
        **fields,
    }
    return SaaSAccount.objects.create(integration=integration, kind=kind, name=name, **values)


def make_key(account: SaaSAccount, key_id: str, *, status: str = "Active", days_unused: int | None = None):
    now = timezone.now()
    last_used = now - datetime.timedelta(days=days_unused) if days_unused is not None else None
    return AccessKey.objects.create(
        account=account,
        access_key_id=key_id,
        status=status,
        created=now - datetime.timedelta(days=400),
        last_used_at=last_used,
    )

"""Reads behind the account list's filters and the dashboard on the admin index."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import AccessKey, Person, SaaSAccount
from integrations.models import Integration

INACTIVE_DAYS = 45
UNUSED_KEY_DAYS = 90


def active_accounts(queryset: QuerySet[SaaSAccount] | None = None) -> QuerySet[SaaSAccount]:
    queryset = SaaSAccount.objects.all() if queryset is None else queryset
    return queryset.filter(status=SaaSAccount.Status.ACTIVE)


def with_person_status(queryset: QuerySet[SaaSAccount], status: str) -> QuerySet[SaaSAccount]:
    """Active accounts whose person has `status` (left or on_leave): the retiree accounts."""
    return active_accounts(queryset).filter(person__status=status)


def inactive(queryset: QuerySet[SaaSAccount], *, days: int = INACTIVE_DAYS, now=None):
    """Active accounts with no activity for `days`.

    An account never used counts from when it was created in AWS, or else from when it was first seen.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    return (
        active_accounts(queryset)
        .alias(activity_or_start=Coalesce("last_activity", "created_in_service", "first_seen"))
        .filter(activity_or_start__lt=cutoff)
    )


def unused_active_keys(*, days: int = UNUSED_KEY_DAYS, now=None) -> QuerySet[AccessKey]:
    """Active access keys not used for `days`; a key never used counts from its creation."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    return AccessKey.objects.filter(status=AccessKey.Status.ACTIVE).filter(
        Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True, created__lt=cutoff)
    )


def with_unused_active_key(queryset: QuerySet[SaaSAccount], *, days: int = UNUSED_KEY_DAYS, now=None):
    keys = unused_active_keys(days=days, now=now).filter(account=OuterRef("pk"))
    return active_accounts(queryset).filter(Exists(keys))


def needs_review(queryset: QuerySet[SaaSAccount]) -> QuerySet[SaaSAccount]:
    """Active accounts whose user type is unknown, because no evidence or person shows whose they are."""
    return active_accounts(queryset).filter(user_type=SaaSAccount.UserType.UNKNOWN)


def dashboard_counts() -> dict:
    """Count what the admin index shows: active accounts by user type and the ones to act on."""
    accounts = SaaSAccount.objects.all()
    totals = active_accounts(accounts).values("user_type").annotate(total=Count("pk"))
    by_type = {row["user_type"]: row["total"] for row in totals.order_by()}
    return {
        "by_user_type": [
            (choice.value, choice.label, by_type.get(choice.value, 0)) for choice in SaaSAccount.UserType
        ],
        "needs_review": needs_review(accounts).count(),
        "person_left": with_person_status(accounts, Person.Status.LEFT).count(),
        "person_on_leave": with_person_status(accounts, Person.Status.ON_LEAVE).count(),
        "inactive": inactive(accounts).count(),
        "unused_keys": with_unused_active_key(accounts).count(),
        "integrations_failing": Integration.objects.filter(status=Integration.Status.FAILED).count(),
    }

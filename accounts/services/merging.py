"""Merging accounts into people and undoing merges.

A merge links an account to a person: the account takes the person's email and the user type of
the person's kind. `link_decision` records that a person made the link (or removed it), and the
collection job leaves such links as they are.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import MergeRecord, Person, SaaSAccount
from accounts.services.evidence import decide_person_user_type, decide_unlinked_user_type, evidence_email
from accounts.services.people import get_or_create_person
from accounts.services.suggestions import unlinked_accounts
from audit.services import record_event

logger = logging.getLogger(__name__)

USER_TYPE_LABELS = dict(SaaSAccount.UserType.choices)


@dataclass(frozen=True)
class AccountChange:
    """The change a merge or unmerge makes to one account, shown on the confirmation page."""

    account: SaaSAccount
    email_before: str
    email_after: str
    person_before: Person | None
    person_after: Person | None
    user_type_before: str
    user_type_after: str

    @property
    def relinks(self) -> bool:
        """True when the account is linked to another person, who would lose it."""
        return self.person_before is not None and self.person_before != self.person_after

    @property
    def user_type_before_label(self) -> str:
        return USER_TYPE_LABELS.get(self.user_type_before, self.user_type_before)

    @property
    def user_type_after_label(self) -> str:
        return USER_TYPE_LABELS.get(self.user_type_after, self.user_type_after)


def _snapshot(account: SaaSAccount) -> dict:
    return {
        "person": account.person_id,
        "email": account.email,
        "email_source": account.email_source,
        "link_decision": account.link_decision,
        "user_type": account.user_type,
        "user_type_reason": account.user_type_reason,
    }


def plan_merge(*, accounts: Iterable[SaaSAccount], person: Person) -> list[AccountChange]:
    """Describe what merging `accounts` into `person` would change, without changing anything."""
    decision = decide_person_user_type(person)
    return [
        AccountChange(
            account=account,
            email_before=account.email,
            email_after=person.email,
            person_before=account.person,
            person_after=person,
            user_type_before=account.user_type,
            user_type_after=decision.user_type,
        )
        for account in accounts
    ]


@transaction.atomic
def merge_accounts(*, accounts: Iterable[SaaSAccount], person: Person, actor) -> list[MergeRecord]:
    """Link each account to `person`, keeping its previous state in a MergeRecord, and audit each merge."""
    decision = decide_person_user_type(person)
    account_ids = [account.pk for account in accounts]
    locked = SaaSAccount.objects.select_for_update().filter(pk__in=account_ids).order_by("pk")
    records = []
    for account in locked:
        before = _snapshot(account)
        record = MergeRecord.objects.create(
            account=account,
            person=person,
            previous_person_id=account.person_id,
            previous_email=account.email,
            previous_email_source=account.email_source,
            previous_link_decision=account.link_decision,
            previous_user_type=account.user_type,
            previous_user_type_reason=account.user_type_reason,
            previous_user_type_reason_params=account.user_type_reason_params,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _set_link(
            account,
            person=person,
            email=person.email,
            email_source=SaaSAccount.EmailSource.MERGE,
            link_decision=SaaSAccount.LinkDecision.MERGED,
            decision=decision,
        )
        record_event(
            action="account.merged",
            target=account,
            actor=actor,
            before=before,
            after={**_snapshot(account), "merge_record": record.pk},
        )
        records.append(record)
        logger.info("account merged account=%s person=%s merge=%s", account.pk, person.pk, record.pk)
    return records


def plan_unmerge(*, account: SaaSAccount) -> AccountChange:
    """Describe what unmerging `account` would change, without changing anything."""
    email, _source = evidence_email(account)
    decision = decide_unlinked_user_type(account, access_key_count=account.access_keys.count())
    return AccountChange(
        account=account,
        email_before=account.email,
        email_after=email,
        person_before=account.person,
        person_after=None,
        user_type_before=account.user_type,
        user_type_after=decision.user_type,
    )


@transaction.atomic
def unmerge_account(*, account: SaaSAccount, actor) -> SaaSAccount:
    """Unlink the account from its person, restore its email and computed user type, and audit it.

    The email comes back from the account's own evidence (its email tag, or a user name that is an
    email), and `link_decision` becomes "unmerged" so that a sync does not link it again.
    """
    account = SaaSAccount.objects.select_for_update().get(pk=account.pk)
    before = _snapshot(account)
    now = timezone.now()
    undone_by = actor if getattr(actor, "is_authenticated", False) else None
    open_records = MergeRecord.objects.filter(account=account, undone_at__isnull=True)
    undone_ids = list(open_records.values_list("pk", flat=True))
    open_records.update(undone_at=now, undone_by=undone_by)

    email, source = evidence_email(account)
    decision = decide_unlinked_user_type(account, access_key_count=account.access_keys.count())
    _set_link(
        account,
        person=None,
        email=email,
        email_source=source,
        link_decision=SaaSAccount.LinkDecision.UNMERGED,
        decision=decision,
    )
    record_event(
        action="account.unmerged",
        target=account,
        actor=actor,
        before=before,
        after={**_snapshot(account), "undone_merge_records": undone_ids},
    )
    logger.info("account unmerged account=%s merges=%s", account.pk, undone_ids)
    return account


@transaction.atomic
def merge_accounts_into_new_person(
    *, accounts: Iterable[SaaSAccount], email: str, name: str, kind: str, actor
) -> tuple[Person, list[MergeRecord]]:
    """Create the person with `email` (or find it) and merge `accounts` into it, all or nothing."""
    person = get_or_create_person(email=email, name=name, kind=kind, actor=actor)
    return person, merge_accounts(accounts=accounts, person=person, actor=actor)


@transaction.atomic
def unmerge_accounts(*, accounts: Iterable[SaaSAccount], actor) -> list[SaaSAccount]:
    """Unmerge each account, all or nothing, so a failure leaves none of them changed."""
    return [unmerge_account(account=account, actor=actor) for account in accounts]


@transaction.atomic
def accept_suggestions(*, pairs: Iterable[tuple[int, int]], actor) -> int:
    """Merge each (account id, person id) pair whose account is still unlinked, all or nothing.

    The first pair of an account wins, and a pair whose person no longer exists is skipped. Returns
    how many accounts were merged.
    """
    chosen: dict[int, int] = {}
    for account_id, person_id in pairs:
        chosen.setdefault(account_id, person_id)
    accounts = unlinked_accounts().filter(pk__in=chosen)
    people = Person.objects.in_bulk(set(chosen.values()))
    merged = 0
    for account in accounts:
        person = people.get(chosen[account.pk])
        if person is not None:
            merge_accounts(accounts=[account], person=person, actor=actor)
            merged += 1
    return merged


def _set_link(account: SaaSAccount, *, person, email: str, email_source: str, link_decision: str, decision) -> None:
    """Save the person, email and user type that a merge or an unmerge gives the account."""
    account.person = person
    account.email = email
    account.email_source = email_source
    account.email_warning = ""
    account.link_decision = link_decision
    account.user_type = decision.user_type
    account.user_type_reason = decision.reason_code
    account.user_type_reason_params = decision.reason_params
    account.user_type_set_by = None
    account.save(
        update_fields=[
            "person",
            "email",
            "email_source",
            "email_warning",
            "link_decision",
            "user_type",
            "user_type_reason",
            "user_type_reason_params",
            "user_type_set_by",
        ]
    )

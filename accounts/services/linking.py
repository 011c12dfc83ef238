"""Linking accounts to the people whose email they carry, as soon as those people are known."""

import logging

from django.db import transaction
from django.db.models import Q

from accounts.models import Person, SaaSAccount
from accounts.services.evidence import decide_person_user_type
from audit.services import record_event

logger = logging.getLogger(__name__)

LINKABLE_STATUSES = (SaaSAccount.Status.ACTIVE, SaaSAccount.Status.OFFBOARDING)


@transaction.atomic
def link_accounts_to_people(*, people: list[Person], actor=None, job: str = "") -> int:
    """Link unlinked accounts whose tag or user-name email belongs to one of `people`; return how many.

    This is what the next sync would do, done at once so that an imported person who left shows up
    with their accounts without waiting for a sync. Accounts whose link a person decided (merged
    or unmerged) are left alone, and so are accounts whose user type a person chose.
    """
    by_email = {person.email: person for person in people}
    if not by_email:
        return 0
    candidates = (
        SaaSAccount.objects.select_for_update(of=("self",))
        .filter(
            email__in=list(by_email),
            person__isnull=True,
            link_decision=SaaSAccount.LinkDecision.NONE,
            status__in=LINKABLE_STATUSES,
        )
        .filter(Q(email_source=SaaSAccount.EmailSource.TAG) | Q(email_source=SaaSAccount.EmailSource.USERNAME))
        .order_by("pk")
    )
    linked = []
    for account in candidates:
        person = by_email[account.email]
        before = {"person": None, "user_type": account.user_type}
        account.person = person
        if account.user_type_set_by_id is None:
            decision = decide_person_user_type(person)
            account.user_type = decision.user_type
            account.user_type_reason = decision.reason_code
            account.user_type_reason_params = decision.reason_params
        linked.append(account)
        record_event(
            action="account.linked_by_email",
            target=account,
            actor=actor,
            job=job,
            before=before,
            after={"person": person.email, "user_type": account.user_type},
        )
    SaaSAccount.objects.bulk_update(
        linked, ["person", "user_type", "user_type_reason", "user_type_reason_params"], batch_size=500
    )
    if linked:
        logger.info("Linked accounts by email count=%s", len(linked))
    return len(linked)

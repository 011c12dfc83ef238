"""Creating people in the directory by hand, for example when a merge names a new email."""

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Person, SaaSAccount
from accounts.services.evidence import decide_person_user_type
from audit.services import record_event


@transaction.atomic
def get_or_create_person(*, email: str, name: str = "", kind: str = Person.Kind.EMPLOYEE, actor) -> Person:
    """Return the person with `email` (matched case-insensitively), creating and auditing it if new."""
    email = email.strip().lower()
    person = Person.objects.filter(email__iexact=email).first()
    if person is not None:
        return person
    person = Person.objects.create(email=email, name=name.strip(), kind=kind)
    record_event(
        action="person.created",
        target=person,
        actor=actor,
        after={"email": person.email, "name": person.name, "kind": person.kind, "status": person.status},
    )
    return person


PERSON_FIELDS = ("email", "name", "kind", "status", "left_on")


def _person_values(person: Person) -> dict:
    return {name: str(getattr(person, name) or "") for name in PERSON_FIELDS}


@transaction.atomic
def save_person(*, person: Person, actor) -> Person:
    """Save a person edited by hand and audit the change.

    A new email, or a new kind, is copied to the accounts merged into the person, because syncs
    leave merged accounts alone and would never update them.
    """
    before = None
    stored = None
    if person.pk is not None:
        stored = Person.objects.filter(pk=person.pk).first()
        before = _person_values(stored) if stored else None
    person.save()
    record_event(
        action="person.updated" if before else "person.created",
        target=person,
        actor=actor,
        before=before,
        after=_person_values(person),
    )
    if stored is not None and (stored.email != person.email or stored.kind != person.kind):
        _update_merged_accounts(person=person, kind_changed=stored.kind != person.kind, actor=actor)
    return person


def _update_merged_accounts(*, person: Person, kind_changed: bool, actor) -> None:
    """Give the person's merged accounts its email and, after a kind change, its user type."""
    decision = decide_person_user_type(person)
    merged = SaaSAccount.objects.select_for_update().filter(
        person=person, link_decision=SaaSAccount.LinkDecision.MERGED
    )
    for account in merged.order_by("pk"):
        before = {"email": account.email, "user_type": account.user_type, "user_type_reason": account.user_type_reason}
        account.email = person.email
        # A user type set by hand stays, as it does when a sync recomputes user types.
        if kind_changed and account.user_type_set_by_id is None:
            account.user_type = decision.user_type
            account.user_type_reason = decision.reason_code
            account.user_type_reason_params = decision.reason_params
        after = {"email": account.email, "user_type": account.user_type, "user_type_reason": account.user_type_reason}
        if after == before:
            continue
        account.save(update_fields=["email", "user_type", "user_type_reason", "user_type_reason_params"])
        record_event(
            action="account.updated",
            target=account,
            actor=actor,
            before=before,
            after={**after, "person": person.pk},
        )


class PersonInUse(Exception):
    """Raised when a person to delete still has linked accounts."""


@transaction.atomic
def delete_person(*, person: Person, actor) -> None:
    """Delete a person who has no linked accounts, and audit the deletion.

    A person with linked accounts is kept, because deleting it would leave those accounts with
    the person's email and user type but no person. Unmerge the accounts first.
    """
    linked = list(person.accounts.values_list("pk", flat=True))
    if linked:
        raise PersonInUse(
            gettext("%(person)s has %(count)s linked account(s). Unmerge them before deleting the person.")
            % {"person": person, "count": len(linked)}
        )
    record_event(action="person.deleted", target=person, actor=actor, before=_person_values(person))
    person.delete()

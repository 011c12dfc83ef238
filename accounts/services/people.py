"""Creating people in the directory by hand, for example when a merge names a new email."""

from django.db import transaction

from accounts.models import Person
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
    """Save a person edited by hand and audit the change."""
    before = None
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
    return person

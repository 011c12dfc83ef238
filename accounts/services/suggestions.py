"""Suggesting which person owns each unlinked IAM user, with the evidence for each candidate."""

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, SaaSAccount
from accounts.services.evidence import clean_email, tag_email

# Evidence, strongest first. The score orders candidates; it is not a probability.
EVIDENCE = {
    "email_tag": (100, _("The email tag is %(value)s.")),
    "email_user_name": (90, _("The user name %(value)s is this person's email.")),
    "local_part": (70, _("The user name %(value)s is the part of this person's email before the @.")),
    "name_similarity": (40, _("The user name %(value)s is similar to this person's name or email.")),
}
SIMILARITY_CUTOFF = 0.8
MAX_CANDIDATES = 3


@dataclass
class Candidate:
    person: Person
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (code, value)

    @property
    def score(self) -> int:
        return max(EVIDENCE[code][0] for code, _value in self.evidence)

    @property
    def evidence_text(self) -> list[str]:
        return [str(EVIDENCE[code][1]) % {"value": value} for code, value in self.evidence]


@dataclass
class Suggestion:
    account: SaaSAccount
    candidates: list[Candidate]


def unlinked_accounts() -> QuerySet[SaaSAccount]:
    """Active IAM users with no person, leaving out those a person has unmerged on purpose."""
    return (
        SaaSAccount.objects.filter(
            kind=SaaSAccount.Kind.IAM_USER, status=SaaSAccount.Status.ACTIVE, person__isnull=True
        )
        .exclude(link_decision=SaaSAccount.LinkDecision.UNMERGED)
        .select_related("integration")
        .order_by("integration__name", "name", "pk")
    )


def _normalise(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


class PersonIndex:
    """People looked up by email, by the part of the email before the @, and by normalised name."""

    def __init__(self, people):
        self.by_email: dict[str, Person] = {}
        self.by_local_part: dict[str, list[Person]] = defaultdict(list)
        self.by_key: dict[str, list[Person]] = defaultdict(list)
        for person in people:
            email = person.email.lower()
            local_part = email.split("@", 1)[0]
            self.by_email[email] = person
            self.by_local_part[local_part].append(person)
            for text in (local_part, person.name):
                key = _normalise(text)
                if len(key) >= 3 and person not in self.by_key[key]:
                    self.by_key[key].append(person)
        # Similar keys are looked for only among keys with the same first character, which keeps
        # the comparison count per account near the number of people divided by about 30.
        self.keys_by_first_character: dict[str, list[str]] = defaultdict(list)
        for key in self.by_key:
            self.keys_by_first_character[key[0]].append(key)


def suggest_for(account: SaaSAccount, index: PersonIndex) -> list[Candidate]:
    """Return the candidate people for one account, best first, at most MAX_CANDIDATES."""
    candidates: dict[int, Candidate] = {}

    def add(person: Person, code: str, value: str) -> None:
        candidate = candidates.setdefault(person.pk, Candidate(person))
        if all(existing != code for existing, _value in candidate.evidence):
            candidate.evidence.append((code, value))

    email = tag_email(account.tags)
    if email and email in index.by_email:
        add(index.by_email[email], "email_tag", email)
    name = account.name.strip()
    name_email = clean_email(name)
    if name_email and name_email in index.by_email:
        add(index.by_email[name_email], "email_user_name", name)
    for person in index.by_local_part.get(name.lower(), []):
        add(person, "local_part", name)
    key = _normalise(name.split("@", 1)[0])
    if len(key) >= 3:
        keys = index.keys_by_first_character.get(key[0], [])
        for match in difflib.get_close_matches(key, keys, n=MAX_CANDIDATES, cutoff=SIMILARITY_CUTOFF):
            for person in index.by_key[match]:
                add(person, "name_similarity", name)
    ranked = sorted(candidates.values(), key=lambda candidate: (-candidate.score, candidate.person.email))
    return ranked[:MAX_CANDIDATES]


def suggest_merges(accounts) -> list[Suggestion]:
    """Return a suggestion for each of `accounts` that has at least one candidate person.

    NOTE: name similarity misses a name whose first character differs from the person's name and
    email, such as "ytaro" for Taro Yamada. The stronger evidence types do not depend on it.
    """
    index = PersonIndex(Person.objects.only("pk", "email", "name", "kind", "status"))
    suggestions = []
    for account in accounts:
        candidates = suggest_for(account, index)
        if candidates:
            suggestions.append(Suggestion(account, candidates))
    return suggestions

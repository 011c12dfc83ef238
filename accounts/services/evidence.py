"""Reading the evidence an account carries about its owner: its email tag, its name and its keys."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import SaaSAccount
from accounts.user_types import AccountEvidence, UserTypeDecision, decide_user_type


def clean_email(value) -> str:
    """Return `value` trimmed and lower-cased when it is a valid email address, else ""."""
    if not isinstance(value, str):
        return ""
    candidate = value.strip().lower()
    if not candidate:
        return ""
    try:
        validate_email(candidate)
    except ValidationError:
        return ""
    return candidate


def tag_email(tags) -> str:
    """Return the valid email in an `email` tag (key matched case-insensitively), else ""."""
    if isinstance(tags, dict):
        pairs = tags.items()
    elif isinstance(tags, list):
        pairs = [(tag.get("Key", ""), tag.get("Value", "")) for tag in tags if isinstance(tag, dict)]
    else:
        return ""
    for key, value in pairs:
        if isinstance(key, str) and key.strip().lower() == "email":
            return clean_email(value)
    return ""


def evidence_email(account: SaaSAccount) -> tuple[str, str]:
    """Return the email that the account's own data gives and its source: tag, user name, or none."""
    email = tag_email(account.tags)
    if email:
        return email, SaaSAccount.EmailSource.TAG
    if account.kind == SaaSAccount.Kind.IAM_USER:
        email = clean_email(account.name)
        if email:
            return email, SaaSAccount.EmailSource.USERNAME
    return "", SaaSAccount.EmailSource.NONE


def service_principal(account: SaaSAccount) -> str:
    principals = account.trusted_principals or []
    if isinstance(principals, list):
        for principal in principals:
            if isinstance(principal, str) and principal.endswith(".amazonaws.com"):
                return principal
    return ""


def decide_unlinked_user_type(account: SaaSAccount, *, access_key_count: int) -> UserTypeDecision:
    """Decide the user type of an account that is linked to no person, from its collected data."""
    evidence = AccountEvidence(
        kind=account.kind,
        name=account.name,
        path=account.path,
        service_linked=account.service_linked,
        service_principal=service_principal(account),
        password_last_used=account.password_last_used,
        access_key_count=access_key_count,
        email=evidence_email(account)[0],
    )
    return decide_user_type(evidence)


def decide_person_user_type(person) -> UserTypeDecision:
    """Decide the user type that linking to `person` gives."""
    evidence = AccountEvidence(kind="", name="", person_label=str(person), person_kind=person.kind)
    return decide_user_type(evidence)

"""Deciding an account's user type (employee, guest, system, unknown) and the reason for it.

The reason is stored as a code with its parameters, so the admin shows it in the reader's
language; `describe_reason` renders it.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

EMPLOYEE = "employee"
GUEST = "guest"
SYSTEM = "system"
UNKNOWN = "unknown"

# Paths and name prefixes that companies commonly give to machine users.
SYSTEM_PATH_PREFIXES = ("/service/", "/services/", "/system/", "/automation/", "/ci/")
SYSTEM_NAME_PREFIXES = ("svc-", "svc_", "service-", "service_", "bot-", "bot_", "ci-", "ci_", "app-")

REASONS = {
    "person": _("Linked to %(person)s, who is recorded as %(kind)s."),
    "iam_role": _("IAM role: roles are assumed by AWS services and programs, not signed in to by people."),
    "service_linked_role": _("Service-linked role, created and used by the AWS service %(service)s."),
    "system_path": _("The IAM path %(path)s is one used for machine users."),
    "system_name": _("The name starts with %(prefix)s, a prefix used for machine users."),
    "keys_without_console": _("Has %(count)s access key(s) and has never signed in to the console, as programs do."),
    "email_without_person": _(
        "Has the email %(email)s but is linked to no person. Add that person to the directory, or merge the "
        "account into a person."
    ),
    "no_evidence": _("No email tag, no linked person and no sign of a program. Review it and merge it into a person."),
    "set_by_person": _("Set by %(user)s."),
}


@dataclass(frozen=True)
class AccountEvidence:
    """The evidence about one account from which its user type is decided."""

    kind: str  # "iam_user" or "iam_role"
    name: str
    path: str = "/"
    service_linked: bool = False
    service_principal: str = ""
    password_last_used: datetime | None = None
    access_key_count: int = 0
    person_label: str = ""
    person_kind: str = ""  # "employee" or "guest" when linked to a person
    email: str = ""  # from an email tag or an email-shaped user name, when not linked to a person


@dataclass(frozen=True)
class UserTypeDecision:
    user_type: str
    reason_code: str
    reason_params: dict = field(default_factory=dict)


def decide_user_type(evidence: AccountEvidence) -> UserTypeDecision:
    """Decide the user type from the evidence, strongest first: a linked person, then machine signs."""
    if evidence.person_kind:
        user_type = GUEST if evidence.person_kind == "guest" else EMPLOYEE
        return UserTypeDecision(user_type, "person", {"person": evidence.person_label, "kind": evidence.person_kind})
    if evidence.kind == "iam_role":
        if evidence.service_linked:
            return UserTypeDecision(SYSTEM, "service_linked_role", {"service": evidence.service_principal})
        return UserTypeDecision(SYSTEM, "iam_role")
    path = evidence.path or "/"
    for prefix in SYSTEM_PATH_PREFIXES:
        if path.lower().startswith(prefix):
            return UserTypeDecision(SYSTEM, "system_path", {"path": path})
    name = evidence.name.lower()
    for prefix in SYSTEM_NAME_PREFIXES:
        if name.startswith(prefix):
            return UserTypeDecision(SYSTEM, "system_name", {"prefix": prefix})
    if evidence.password_last_used is None and evidence.access_key_count > 0:
        return UserTypeDecision(SYSTEM, "keys_without_console", {"count": evidence.access_key_count})
    if evidence.email:
        return UserTypeDecision(UNKNOWN, "email_without_person", {"email": evidence.email})
    return UserTypeDecision(UNKNOWN, "no_evidence")


def describe_reason(code: str, params: dict | None = None) -> str:
    """Render a stored reason code in the active language."""
    template = REASONS.get(code)
    if template is None:
        return code
    kind_labels = {"employee": gettext("employee"), "guest": gettext("guest")}
    values = dict(params or {})
    if "kind" in values:
        values["kind"] = kind_labels.get(values["kind"], values["kind"])
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)

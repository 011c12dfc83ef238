"""Evaluation of identity policies and trust policies, reduced to what Rollcall depends on.

Identity policies are matched on Action and NotAction with ``*`` and ``?`` wildcards, case-insensitively
as AWS does. Resource and Condition elements of identity policies are ignored, so every statement
applies to every resource. Trust policies are matched on Principal (``AWS`` account ids, account root
ARNs, exact principal ARNs and ``*``), Action and the ``StringEquals`` condition on ``sts:ExternalId``.
"""

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def parse_document(document: str | dict) -> dict:
    """Parse a policy document that moto stores as JSON text, sometimes URL-encoded."""
    if isinstance(document, dict):
        return document
    text = document.strip()
    if not text.startswith("{"):
        text = unquote(text)
    return json.loads(text)


def action_matches(pattern: str, action: str) -> bool:
    regex = fnmatch.translate(pattern.lower())
    return re.match(regex, action.lower()) is not None


def _statement_matches_action(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return any(action_matches(pattern, action) for pattern in _as_list(statement["Action"]))
    if "NotAction" in statement:
        return not any(action_matches(pattern, action) for pattern in _as_list(statement["NotAction"]))
    return False


ALLOW = "allow"
EXPLICIT_DENY = "explicit-deny"
IMPLICIT_DENY = "implicit-deny"


def evaluate_action(documents: Iterable[str | dict], action: str) -> str:
    """Return ALLOW, EXPLICIT_DENY or IMPLICIT_DENY for ``action``: an explicit Deny wins over any Allow."""
    decision = IMPLICIT_DENY
    for document in documents:
        for statement in _as_list(parse_document(document).get("Statement")):
            if not _statement_matches_action(statement, action):
                continue
            if statement.get("Effect") == "Deny":
                return EXPLICIT_DENY
            if statement.get("Effect") == "Allow":
                decision = ALLOW
    return decision


@dataclass(frozen=True)
class TrustRequest:
    """The facts of an AssumeRole call that a trust policy is evaluated against."""

    caller_account_id: str
    caller_arn: str
    external_id: str | None


def _principal_matches(principal, request: TrustRequest) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS")):
        if value == "*":
            return True
        if value == request.caller_account_id:
            return True
        if re.fullmatch(rf"arn:aws[\w-]*:iam::{request.caller_account_id}:root", value):
            return True
        if value == request.caller_arn:
            return True
    return False


def _conditions_match(conditions: dict, request: TrustRequest) -> bool:
    """Match the Condition block; any operator or key other than StringEquals sts:ExternalId fails closed."""
    for operator, clauses in conditions.items():
        if operator != "StringEquals":
            return False
        for key, expected in clauses.items():
            if key.lower() != "sts:externalid":
                return False
            if request.external_id is None or request.external_id not in _as_list(expected):
                return False
    return True


def _trust_statement_applies(statement: dict, request: TrustRequest) -> bool:
    if not _statement_matches_action(statement, "sts:AssumeRole"):
        return False
    if not _principal_matches(statement.get("Principal"), request):
        return False
    return _conditions_match(statement.get("Condition", {}), request)


def is_assume_role_allowed(trust_document: str | dict, request: TrustRequest) -> bool:
    """Return whether the role's trust policy lets the caller assume it with the given external id."""
    allowed = False
    for statement in _as_list(parse_document(trust_document).get("Statement")):
        if not _trust_statement_applies(statement, request):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed

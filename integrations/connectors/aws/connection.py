"""The AWS side of the connection check: assume the role, read its trust policy, probe permissions.

Every function returns plain data (dicts, lists, dataclasses) or raises AwsError; the service in
integrations.services.connection turns the results into the Integration's status and messages.
"""

import fnmatch
import json
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from integrations.connectors.aws import policies
from integrations.connectors.aws.client import AwsError, CallCounter, assume_role_session, client_config

logger = logging.getLogger(__name__)

# Role ARN: arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME. IAM allows role paths of printable ASCII
# and role names of letters, digits and +=,.@_- up to 64 characters.
ROLE_ARN_RE = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account_id>\d{12}):"
    r"role/(?P<path>(?:[\x21-\x2e\x30-\x7e]+/)*)(?P<name>[A-Za-z0-9+=,.@_-]{1,64})"
)

# Error codes that mean "the caller is allowed, the target just does not exist or is not ready".
# IAM authorizes a request before it looks the target up, so these prove the permission.
ALLOWED_RESULT_CODES = frozenset(
    {"NoSuchEntity", "NoSuchEntityException", "ReportNotPresent", "ReportExpired", "ReportInProgress"}
)

# Actions that can be called without changing anything in the customer's account.
READ_ACTIONS: tuple[str, ...] = tuple(
    action
    for action in policies.EXTENDED_ACTIONS
    if action.split(":", 1)[1].startswith(("List", "Get")) and action != "account:GetContactInformation"
)
# Actions that change the account (and GenerateCredentialReport, which starts a report). Rollcall
# never calls them to test a permission.
WRITE_ACTIONS: tuple[str, ...] = tuple(
    action
    for action in policies.EXTENDED_ACTIONS
    if action not in READ_ACTIONS and action != "account:GetContactInformation"
)

# AWS managed policies that allow every IAM action.
FULL_IAM_MANAGED_POLICIES = frozenset({"AdministratorAccess", "IAMFullAccess"})


@dataclass(frozen=True)
class RoleArn:
    partition: str
    account_id: str
    path: str
    name: str

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role{self.path}{self.name}"


def parse_role_arn(value: str) -> RoleArn | None:
    match = ROLE_ARN_RE.fullmatch(value)
    if match is None:
        return None
    return RoleArn(
        partition=match["partition"],
        account_id=match["account_id"],
        path="/" + match["path"],
        name=match["name"],
    )


def generate_external_id() -> str:
    """Generate a random external id of 43 characters from letters, digits, - and _."""
    return secrets.token_urlsafe(32)


def assume_role(*, role_arn: str, external_id: str, counter: CallCounter | None = None) -> boto3.Session:
    """Assume the customer's role with the external id; raise AwsError when STS refuses."""
    return assume_role_session(
        role_arn=role_arn, external_id=external_id, session_name="rollcall-connection-check", counter=counter
    )


def _call(client, method: str, action: str, **params):
    try:
        return getattr(client, method)(**params)
    except (ClientError, BotoCoreError) as error:
        raise AwsError.from_exception(error, action=action) from error


def parse_policy_document(document: str | dict) -> dict:
    """Parse a policy document that IAM returns as URL-encoded JSON (boto3 usually decodes it already)."""
    if isinstance(document, dict):
        return document
    text = document.strip()
    if not text.startswith("{"):
        text = unquote(text)
    return json.loads(text)


def read_role(session: boto3.Session, role: RoleArn) -> dict:
    """Find the role in ListRoles (under its path) and return its entry, trust policy decoded.

    Raises AwsError with code RoleNotListed when ListRoles does not return the role.
    """
    iam = session.client("iam", config=client_config())
    paginator = iam.get_paginator("list_roles")
    try:
        for page in paginator.paginate(PathPrefix=role.path):
            for entry in page["Roles"]:
                if entry["RoleName"].lower() == role.name.lower():
                    entry = dict(entry)
                    entry["AssumeRolePolicyDocument"] = parse_policy_document(entry["AssumeRolePolicyDocument"])
                    return entry
    except (ClientError, BotoCoreError) as error:
        raise AwsError.from_exception(error, action="iam:ListRoles") from error
    raise AwsError(
        code="RoleNotListed", message=f"ListRoles did not return the role {role.arn}.", action="iam:ListRoles"
    )


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def _statement_covers(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return _action_matches(_as_list(statement["Action"]), action)
    if "NotAction" in statement:
        return not _action_matches(_as_list(statement["NotAction"]), action)
    return False


def _is_platform_principal(value: str, *, platform_account_id: str) -> bool:
    if value == platform_account_id:
        return True
    # The account root, or one user or role inside the platform account.
    return re.fullmatch(rf"arn:aws(?:-cn|-us-gov)?:iam::{platform_account_id}:\S+", value) is not None


@dataclass(frozen=True)
class TrustProblem:
    """One reason the trust policy lets someone other than this integration assume the role."""

    code: str  # TrustPolicyOtherPrincipal, TrustPolicyNoExternalId or TrustPolicyWrongExternalId
    detail: str


def evaluate_trust_policy(document: dict, *, platform_account_id: str, external_id: str) -> list[TrustProblem]:
    """List what makes the trust policy weaker than "only the platform account, only this external id".

    Every Allow statement must name only the platform account as principal. Every Allow statement
    that covers sts:AssumeRole must carry the condition StringEquals sts:ExternalId with exactly
    this integration's external id. Any other condition on the external id is a problem, because
    another customer of the platform could then assume the role with an external id of their own.
    """
    problems: list[TrustProblem] = []
    for statement in _as_list(document.get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or set(principal) != {"AWS"}:
            problems.append(TrustProblem("TrustPolicyOtherPrincipal", json.dumps(principal)))
        else:
            for value in _as_list(principal["AWS"]):
                if not _is_platform_principal(value, platform_account_id=platform_account_id):
                    problems.append(TrustProblem("TrustPolicyOtherPrincipal", value))
        if not _statement_covers(statement, "sts:AssumeRole"):
            continue
        condition = statement.get("Condition") or {}
        expected = None
        for operator, clauses in condition.items():
            for key, value in clauses.items():
                if key.lower() != "sts:externalid":
                    continue
                if operator != "StringEquals":
                    problems.append(TrustProblem("TrustPolicyWrongExternalId", f"{operator} {key}"))
                else:
                    expected = _as_list(value)
        if expected is None:
            problems.append(TrustProblem("TrustPolicyNoExternalId", ""))
        elif expected != [external_id]:
            problems.append(TrustProblem("TrustPolicyWrongExternalId", f"{len(expected)}"))
    return problems


@dataclass
class PermissionReport:
    """Which of the extended policy's actions the role has.

    ``allowed`` and ``denied`` were proven by a call or by reading the role's own policies.
    ``inferred`` are write actions assumed present, because no call can prove them without a change.
    An action in none of the three is unknown and counts as missing.
    """

    allowed: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)
    inferred: set[str] = field(default_factory=set)
    documents_read: bool = False

    def has(self, action: str) -> bool:
        return action in self.allowed or action in self.inferred


def _probe(client, method: str, action: str, report: PermissionReport, **params) -> dict | None:
    """Call one read action and record whether the role may call it; raise AwsError on other errors."""
    try:
        response = getattr(client, method)(**params)
    except ClientError as error:
        failure = AwsError.from_exception(error, action=action)
        if failure.is_access_denied:
            report.denied.add(action)
            return None
        if failure.code in ALLOWED_RESULT_CODES:
            report.allowed.add(action)
            return None
        raise failure from error
    except BotoCoreError as error:
        raise AwsError.from_exception(error, action=action) from error
    report.allowed.add(action)
    return response


def _probe_user_name() -> str:
    # A name no IAM user has: IAM authorizes before it looks a user up, so a role with the
    # permission gets NoSuchEntity and a role without it gets AccessDenied.
    return f"rollcall-permission-check-{secrets.token_hex(8)}"


def probe_permissions(session: boto3.Session, role: RoleArn) -> PermissionReport:
    """Find which of the extended policy's actions the role has, without changing anything.

    Each List/Get action is called once on a harmless target (the first IAM user, this role, or a
    user name that does not exist). Write actions cannot be called to test them, so they are
    evaluated against the role's own policies when GetAccountAuthorizationDetails (extended
    policy) can read them.
    """
    report = PermissionReport()
    iam = session.client("iam", config=client_config())

    users = _probe(iam, "list_users", "iam:ListUsers", report, MaxItems=1)
    user_name = users["Users"][0]["UserName"] if users and users.get("Users") else _probe_user_name()
    _probe(iam, "list_roles", "iam:ListRoles", report, MaxItems=1)

    keys = _probe(iam, "list_access_keys", "iam:ListAccessKeys", report, UserName=user_name)
    key_metadata = keys.get("AccessKeyMetadata") if keys else None
    if key_metadata:
        _probe(
            iam, "get_access_key_last_used", "iam:GetAccessKeyLastUsed", report,
            AccessKeyId=key_metadata[0]["AccessKeyId"],
        )  # fmt: skip
    else:
        # NOTE: with no access key to look up, GetAccessKeyLastUsed is tested with a random key id
        # that no user has, because IAM returns AccessDenied before it looks the key up.
        _probe(
            iam, "get_access_key_last_used", "iam:GetAccessKeyLastUsed", report,
            AccessKeyId="AKIA" + secrets.token_hex(8).upper(),
        )  # fmt: skip

    for method, action in (
        ("list_attached_user_policies", "iam:ListAttachedUserPolicies"),
        ("list_groups_for_user", "iam:ListGroupsForUser"),
        ("list_mfa_devices", "iam:ListMFADevices"),
        ("list_user_tags", "iam:ListUserTags"),
        ("list_user_policies", "iam:ListUserPolicies"),
        ("list_signing_certificates", "iam:ListSigningCertificates"),
        ("list_ssh_public_keys", "iam:ListSSHPublicKeys"),
        ("list_service_specific_credentials", "iam:ListServiceSpecificCredentials"),
        ("get_login_profile", "iam:GetLoginProfile"),
    ):
        _probe(iam, method, action, report, UserName=user_name)

    for method, action in (
        ("list_role_policies", "iam:ListRolePolicies"),
        ("list_attached_role_policies", "iam:ListAttachedRolePolicies"),
        ("list_instance_profiles_for_role", "iam:ListInstanceProfilesForRole"),
    ):
        _probe(iam, method, action, report, RoleName=role.name)

    _probe(iam, "get_credential_report", "iam:GetCredentialReport", report)
    documents = _read_role_policy_documents(iam, role, report)
    _judge_write_actions(documents, report)
    return report


def _read_role_policy_documents(iam, role: RoleArn, report: PermissionReport) -> list[dict] | None:
    """Return the role's permission policy documents, or None when the role cannot read them.

    Returns None too when an AWS managed policy other than the full-IAM ones is attached, because
    reading AWS managed policies would page through hundreds of them.
    """
    pages = []
    try:
        paginator = iam.get_paginator("get_account_authorization_details")
        for page in paginator.paginate(Filter=["Role", "LocalManagedPolicy"]):
            pages.append(page)
    except ClientError as error:
        failure = AwsError.from_exception(error, action="iam:GetAccountAuthorizationDetails")
        if failure.is_access_denied:
            report.denied.add("iam:GetAccountAuthorizationDetails")
            return None
        raise failure from error
    except BotoCoreError as error:
        raise AwsError.from_exception(error, action="iam:GetAccountAuthorizationDetails") from error
    report.allowed.add("iam:GetAccountAuthorizationDetails")

    local_policies = {}
    role_entry = None
    for page in pages:
        for policy in page.get("Policies", []):
            default = next((v for v in policy.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), None)
            if default is not None:
                local_policies[policy["Arn"]] = parse_policy_document(default["Document"])
        for entry in page.get("RoleDetailList", []):
            if entry["RoleName"].lower() == role.name.lower():
                role_entry = entry
    if role_entry is None:
        return None

    documents = [parse_policy_document(item["PolicyDocument"]) for item in role_entry.get("RolePolicyList", [])]
    for attached in role_entry.get("AttachedManagedPolicies", []):
        arn = attached["PolicyArn"]
        if arn in local_policies:
            documents.append(local_policies[arn])
        elif attached["PolicyName"] in FULL_IAM_MANAGED_POLICIES and ":aws:policy/" in arn:
            documents.append({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        else:
            return None
    return documents


def evaluate_action(documents: list[dict], action: str) -> bool:
    """Return whether the identity policies allow the action; an explicit Deny wins.

    NOTE: Resource and Condition elements are not evaluated, so a statement limited to some
    resources counts as allowing the action everywhere.
    """
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("Statement")):
            if not _statement_covers(statement, action):
                continue
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed


def _judge_write_actions(documents: list[dict] | None, report: PermissionReport) -> None:
    """Decide the write actions from the role's policies, or infer them when those are unreadable.

    NOTE: with only the baseline policy the role cannot read its own policy documents
    (GetRolePolicy and GetPolicyVersion are not in it), so the baseline write actions are assumed
    present and listed as inferred. The offboarding write actions are inferred only when every
    offboarding read action was allowed, which shows that the extended policy was applied.
    """
    if documents is not None:
        report.documents_read = True
        for action in WRITE_ACTIONS:
            (report.allowed if evaluate_action(documents, action) else report.denied).add(action)
        return

    offboarding_reads_present = all(
        action in report.allowed for action in policies.OFFBOARDING_ACTIONS if action in READ_ACTIONS
    )
    fast_reads_present = all(
        action in report.allowed for action in policies.FAST_COLLECTION_ACTIONS if action in READ_ACTIONS
    )
    for action in WRITE_ACTIONS:
        if action in policies.BASELINE_ACTIONS:
            report.inferred.add(action)
        elif action in policies.OFFBOARDING_ACTIONS and offboarding_reads_present:
            report.inferred.add(action)
        elif action in policies.FAST_COLLECTION_ACTIONS and fast_reads_present:
            report.inferred.add(action)
        # Any other write action stays unknown, so has() returns False for it.


def read_contact_information(session: boto3.Session) -> dict:
    """Return the account's contact information (GetContactInformation); raise AwsError on failure."""
    account = session.client("account", config=client_config())
    response = _call(account, "get_contact_information", "account:GetContactInformation")
    return dict(response.get("ContactInformation") or {})

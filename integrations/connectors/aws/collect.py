"""Collection of the IAM users, roles and contact information of one customer account.

Two strategies give the same accounts:
- per-user: ListUsers and ListRoles, then several calls for each user and role, spread over a
  thread pool of at most AWS_MAX_CONCURRENCY requests in flight;
- bulk: GetAccountAuthorizationDetails for users, groups, roles and policies, and the credential
  report for password use, access key use and MFA. The credential report has no access key ids
  and no MFA serial numbers, so those come from the previous sync (`PreviousState`) and, for keys
  or devices not seen before, from ListAccessKeys and ListMFADevices for that user only.

The functions here return plain dataclasses; the caller stores them.
"""

import base64
import csv
import io
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from .client import AwsError, CallCounter, client_config
from .policies import FAST_COLLECTION_ACTIONS

logger = logging.getLogger(__name__)

PER_USER = "per_user"
BULK = "bulk"

SERVICE_LINKED_PATH_PREFIX = "/aws-service-role/"
# The largest page IAM list calls return (MaxItems), to make as few sequential calls as possible.
PAGE_SIZE = 1000
CREDENTIAL_REPORT_POLL_SECONDS = 2.0
CREDENTIAL_REPORT_MAX_POLLS = 60
NOT_AVAILABLE = {"N/A", "no_information", "not_supported", ""}

ProgressCallback = Callable[[int, int], None]


@dataclass
class CollectedAccessKey:
    access_key_id: str
    status: str
    created: datetime | None
    last_used_at: datetime | None = None
    last_used_service: str = ""
    last_used_region: str = ""


@dataclass
class CollectedAccount:
    """One IAM user or role. None in an evidence field means it could not be read."""

    kind: str  # "iam_user" or "iam_role"
    provider_id: str
    name: str
    arn: str
    path: str
    created: datetime | None
    has_console_password: bool | None = None
    password_last_used: datetime | None = None
    mfa_enabled: bool | None = None
    mfa_devices: list[dict] | None = None
    groups: list[str] | None = None
    attached_policies: list[str] | None = None
    inline_policies: list[str] | None = None
    tags: dict[str, str] | None = None
    trusted_principals: list[dict] | None = None
    service_linked: bool = False
    service_principal: str = ""
    access_keys: list[CollectedAccessKey] | None = None
    # Field name -> the IAM action that was denied, for the fields left as None because of it.
    unreadable: dict[str, str] = field(default_factory=dict)


@dataclass
class CollectionWarning:
    code: str
    action: str
    message: str


@dataclass
class PreviousState:
    """Access key ids and MFA devices stored by the previous sync, for the bulk strategy."""

    access_keys: dict[str, list[CollectedAccessKey]] = field(default_factory=dict)  # by IAM user id
    mfa_devices: dict[str, list[dict]] = field(default_factory=dict)  # by IAM user id


@dataclass
class CollectionResult:
    strategy: str
    accounts: list[CollectedAccount]
    contact_information: dict | None
    warnings: list[CollectionWarning]
    calls: int
    throttled_retries: int


class _Denials:
    """The IAM actions denied so far in one run; later calls of a denied action are skipped."""

    def __init__(self):
        self._lock = threading.Lock()
        self.actions: dict[str, str] = {}  # action -> AWS message

    def add(self, action: str, message: str) -> bool:
        """Record a denied action; return True the first time it is denied."""
        with self._lock:
            if action in self.actions:
                return False
            self.actions[action] = message
            return True

    def __contains__(self, action: str) -> bool:
        with self._lock:
            return action in self.actions


def _seconds(value: datetime | None) -> datetime | None:
    """Normalise a timestamp to UTC whole seconds, the precision the credential report has."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def _report_time(value: str) -> datetime | None:
    if value in NOT_AVAILABLE:
        return None
    return _seconds(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _report_text(value: str) -> str:
    return "" if value in NOT_AVAILABLE else value


def _tags(items: list[dict]) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in items}


def _document(value) -> dict:
    """Return a policy document as a dict; botocore decodes IAM documents, but not always."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        import json

        return json.loads(unquote(value))
    return {}


def trusted_principals(document) -> list[dict]:
    """List the principals a role's trust policy allows to assume it, as {"type", "id"} pairs."""
    principals = set()
    statements = _document(document).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        if principal == "*":
            principals.add(("AWS", "*"))
            continue
        for principal_type, values in principal.items():
            for value in [values] if isinstance(values, str) else values:
                principals.add((principal_type, value))
    return [{"type": kind, "id": value} for kind, value in sorted(principals)]


def _role_account(role: dict) -> CollectedAccount:
    principals = trusted_principals(role.get("AssumeRolePolicyDocument"))
    path = role.get("Path", "/")
    service_linked = path.startswith(SERVICE_LINKED_PATH_PREFIX)
    services = [principal["id"] for principal in principals if principal["type"] == "Service"]
    return CollectedAccount(
        kind="iam_role",
        provider_id=role["RoleId"],
        name=role["RoleName"],
        arn=role["Arn"],
        path=path,
        created=_seconds(role.get("CreateDate")),
        trusted_principals=principals,
        service_linked=service_linked,
        service_principal=services[0] if service_linked and services else "",
    )


def _user_account(user: dict) -> CollectedAccount:
    return CollectedAccount(
        kind="iam_user",
        provider_id=user["UserId"],
        name=user["UserName"],
        arn=user["Arn"],
        path=user.get("Path", "/"),
        created=_seconds(user.get("CreateDate")),
    )


def _policy_names(policies: list[dict]) -> list[str]:
    return sorted(policy["PolicyName"] for policy in policies)


def _mfa_device(device: dict) -> dict:
    enabled = _seconds(device.get("EnableDate"))
    return {"serial": device["SerialNumber"], "enabled_at": enabled.isoformat() if enabled else None}


class Collector:
    """Collects one account through one boto3 session whose calls `counter` counts."""

    def __init__(self, *, session, counter: CallCounter, max_concurrency: int | None = None):
        self.max_concurrency = max(1, max_concurrency or settings.AWS_MAX_CONCURRENCY)
        config = client_config(max_pool_connections=self.max_concurrency)
        # One client per service, shared by the pool's threads: botocore clients are thread-safe.
        self.iam = session.client("iam", config=config)
        self.account = session.client("account", config=config)
        self.counter = counter
        self.denials = _Denials()
        self.warnings: list[CollectionWarning] = []

    # Calls.
    def _call(self, action: str, method: Callable, **params):
        try:
            return method(**params)
        except (ClientError, BotoCoreError) as error:
            raise AwsError.from_exception(error, action=action) from error

    def _paginate(self, action: str, operation: str, result_key: str | list[str], **params) -> dict[str, list]:
        keys = [result_key] if isinstance(result_key, str) else result_key
        items: dict[str, list] = {key: [] for key in keys}
        try:
            pages = self.iam.get_paginator(operation).paginate(**params, PaginationConfig={"PageSize": PAGE_SIZE})
            for page in pages:
                for key in keys:
                    items[key].extend(page.get(key, []))
        except (ClientError, BotoCoreError) as error:
            raise AwsError.from_exception(error, action=action) from error
        return items

    def _optional(self, action: str, fetch: Callable, *, warn: bool = True):
        """Run `fetch`; on AccessDenied remember the action and return None instead of failing."""
        if action in self.denials:
            return None
        try:
            return fetch()
        except AwsError as error:
            if not error.is_access_denied:
                raise
            if self.denials.add(action, error.message):
                logger.info("Collection skips %s: access denied", action)
                if warn:
                    self.warnings.append(CollectionWarning(code=error.code, action=action, message=error.message))
            return None

    def _run_pool(
        self, tasks: list[Callable[[], None]], on_progress: ProgressCallback | None, *, counted: int | None = None
    ) -> None:
        """Run the tasks in the thread pool; report progress over the first `counted` tasks (default all)."""
        total = len(tasks) if counted is None else counted
        done = 0

        def finished(index: int) -> None:
            nonlocal done
            if index < total:
                done += 1
                if on_progress:
                    on_progress(done, total)

        if on_progress:
            on_progress(0, total)
        if not tasks:
            return
        # The first task runs alone, so that an action denied to the role is tried once, not once
        # per thread, before the others skip it.
        tasks[0]()
        finished(0)
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="collect") as pool:
            futures = {pool.submit(task): index for index, task in enumerate(tasks[1:], start=1)}
            try:
                for future in as_completed(futures):
                    future.result()
                    finished(futures[future])
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def contact_information(self) -> dict | None:
        """Return the account's contact information: {} when none is set, None when denied."""
        action = "account:GetContactInformation"

        def fetch() -> dict:
            try:
                response = self._call(action, self.account.get_contact_information)
            except AwsError as error:
                if error.code == "ResourceNotFoundException":
                    return {}
                raise
            return response.get("ContactInformation", {})

        return self._optional(action, fetch)

    def result(self, strategy: str, accounts: list[CollectedAccount], contact: dict | None) -> CollectionResult:
        accounts.sort(key=lambda account: (account.kind, account.provider_id))
        return CollectionResult(
            strategy=strategy,
            accounts=accounts,
            contact_information=contact,
            warnings=list(self.warnings),
            calls=self.counter.calls,
            throttled_retries=self.counter.throttled,
        )

    # Per-user strategy.
    def collect_per_user(self, *, on_progress: ProgressCallback | None = None) -> CollectionResult:
        users = self._paginate("iam:ListUsers", "list_users", "Users")["Users"]
        roles = self._paginate("iam:ListRoles", "list_roles", "Roles")["Roles"]
        contact = self.contact_information()
        accounts = [_user_account(user) for user in users] + [_role_account(role) for role in roles]
        password_used = {user["UserId"]: _seconds(user.get("PasswordLastUsed")) for user in users}

        tasks: list[Callable[[], None]] = []
        for account in accounts:
            if account.kind == "iam_user":
                tasks.append(lambda a=account: self._fill_user(a, password_used[a.provider_id]))
            else:
                tasks.append(lambda a=account: self._fill_role(a))
        # Users come first in `accounts`, so progress counts users done out of all users.
        self._run_pool(tasks, on_progress, counted=len(users))
        return self.result(PER_USER, [account for account in accounts if account.provider_id], contact)

    def _items(self, action: str, operation: str, result_key: str, **params) -> list:
        return self._paginate(action, operation, result_key, **params)[result_key]

    def _list(
        self,
        account: CollectedAccount,
        field_name: str,
        action: str,
        operation: str,
        result_key: str,
        **params,
    ):
        """List every item of a paginated call, or None with the field marked unreadable when denied."""
        value = self._optional(action, lambda: self._items(action, operation, result_key, **params))
        if value is None:
            account.unreadable[field_name] = action
        return value

    def _fill_user(self, account: CollectedAccount, password_last_used: datetime | None) -> None:
        """Read one user's details; a user deleted meanwhile is dropped by clearing its id."""
        name = account.name
        try:
            self._fill_user_details(account, name, password_last_used)
        except AwsError as error:
            if error.code != "NoSuchEntity":
                raise
            logger.info("Collection drops user %s: deleted during the run", account.provider_id)
            account.provider_id = ""

    def _fill_user_details(self, account: CollectedAccount, name: str, password_last_used) -> None:
        account.password_last_used = password_last_used

        keys = self._list(
            account,
            "access_keys",
            "iam:ListAccessKeys",
            "list_access_keys",
            "AccessKeyMetadata",
            UserName=name,
        )
        if keys is not None:
            account.access_keys = [self._access_key(account, key) for key in keys]

        devices = self._list(
            account, "mfa_devices", "iam:ListMFADevices", "list_mfa_devices", "MFADevices", UserName=name
        )
        if devices is not None:
            account.mfa_devices = [_mfa_device(device) for device in devices]
            account.mfa_enabled = bool(devices)
        else:
            account.unreadable["mfa_enabled"] = "iam:ListMFADevices"

        groups = self._list(account, "groups", "iam:ListGroupsForUser", "list_groups_for_user", "Groups", UserName=name)
        if groups is not None:
            account.groups = sorted(group["GroupName"] for group in groups)

        attached = self._list(
            account,
            "attached_policies",
            "iam:ListAttachedUserPolicies",
            "list_attached_user_policies",
            "AttachedPolicies",
            UserName=name,
        )
        if attached is not None:
            account.attached_policies = sorted(policy["PolicyName"] for policy in attached)

        inline = self._list(
            account,
            "inline_policies",
            "iam:ListUserPolicies",
            "list_user_policies",
            "PolicyNames",
            UserName=name,
        )
        if inline is not None:
            account.inline_policies = sorted(inline)

        tags = self._list(account, "tags", "iam:ListUserTags", "list_user_tags", "Tags", UserName=name)
        if tags is not None:
            account.tags = _tags(tags)

        account.has_console_password = self._has_console_password(account, name, password_last_used)

    def _has_console_password(self, account: CollectedAccount, name: str, password_last_used) -> bool | None:
        """Check for a console password with GetLoginProfile, which only the extended policy allows.

        Without it, a user who has signed in has a password and any other user is unknown. A missing
        GetLoginProfile is expected with the baseline policy, so it is no warning.
        """
        action = "iam:GetLoginProfile"

        def fetch() -> bool:
            try:
                self._call(action, self.iam.get_login_profile, UserName=name)
            except AwsError as error:
                if error.code == "NoSuchEntity":
                    return False
                raise
            return True

        if action in self.denials:
            found = None
        else:
            found = self._optional(action, fetch, warn=False)
        if found is None:
            if password_last_used is not None:
                return True
            account.unreadable["has_console_password"] = action
        return found

    def _access_key(self, account: CollectedAccount, key: dict) -> CollectedAccessKey:
        collected = CollectedAccessKey(
            access_key_id=key["AccessKeyId"], status=key["Status"], created=_seconds(key.get("CreateDate"))
        )
        action = "iam:GetAccessKeyLastUsed"
        response = self._optional(
            action,
            lambda: self._call(action, self.iam.get_access_key_last_used, AccessKeyId=collected.access_key_id),
        )
        if response is None:
            account.unreadable["access_key_last_used"] = action
            return collected
        last_used = response.get("AccessKeyLastUsed", {})
        collected.last_used_at = _seconds(last_used.get("LastUsedDate"))
        collected.last_used_service = _report_text(last_used.get("ServiceName", ""))
        collected.last_used_region = _report_text(last_used.get("Region", ""))
        return collected

    def _fill_role(self, account: CollectedAccount) -> None:
        name = account.name
        try:
            attached = self._list(
                account,
                "attached_policies",
                "iam:ListAttachedRolePolicies",
                "list_attached_role_policies",
                "AttachedPolicies",
                RoleName=name,
            )
            inline = self._list(
                account,
                "inline_policies",
                "iam:ListRolePolicies",
                "list_role_policies",
                "PolicyNames",
                RoleName=name,
            )
        except AwsError as error:
            if error.code != "NoSuchEntity":
                raise
            logger.info("Collection drops role %s: deleted during the run", account.provider_id)
            account.provider_id = ""
            return
        if attached is not None:
            account.attached_policies = sorted(policy["PolicyName"] for policy in attached)
        if inline is not None:
            account.inline_policies = sorted(inline)

    # Bulk strategy.
    def collect_bulk(
        self, *, previous: PreviousState | None = None, on_progress: ProgressCallback | None = None
    ) -> CollectionResult:
        previous = previous or PreviousState()
        report = self.credential_report()
        details = self._paginate(
            "iam:GetAccountAuthorizationDetails",
            "get_account_authorization_details",
            ["UserDetailList", "RoleDetailList"],
            Filter=["User", "Role"],
        )
        contact = self.contact_information()

        accounts: list[CollectedAccount] = []
        follow_ups: list[Callable[[], None]] = []
        for user in details["UserDetailList"]:
            account = _user_account(user)
            account.groups = sorted(user.get("GroupList", []))
            account.attached_policies = sorted(p["PolicyName"] for p in user.get("AttachedManagedPolicies", []))
            account.inline_policies = _policy_names(user.get("UserPolicyList", []))
            account.tags = _tags(user.get("Tags", []))
            row = report.get(account.arn)
            if row is None:
                # The report is generated at most every four hours by AWS, so a newer user is missing.
                follow_ups.append(lambda a=account: self._fill_user_from_calls(a))
            else:
                follow_ups.extend(self._fill_user_from_report(account, row, previous))
            accounts.append(account)
        for role in details["RoleDetailList"]:
            account = _role_account(role)
            account.attached_policies = sorted(p["PolicyName"] for p in role.get("AttachedManagedPolicies", []))
            account.inline_policies = _policy_names(role.get("RolePolicyList", []))
            accounts.append(account)

        user_count = len(details["UserDetailList"])
        if on_progress:
            on_progress(0, user_count)
        self._run_pool(follow_ups, None)
        if on_progress:
            on_progress(user_count, user_count)
        return self.result(BULK, [account for account in accounts if account.provider_id], contact)

    def credential_report(self) -> dict[str, dict[str, str]]:
        """Generate and download the credential report; return its rows by user ARN."""
        for _attempt in range(CREDENTIAL_REPORT_MAX_POLLS):
            state = self._call("iam:GenerateCredentialReport", self.iam.generate_credential_report).get("State")
            if state == "COMPLETE":
                break
            time.sleep(CREDENTIAL_REPORT_POLL_SECONDS)
        else:
            raise AwsError(
                code="CredentialReportTimeout",
                message="AWS did not finish the credential report in time; the next sync tries again.",
                action="iam:GenerateCredentialReport",
            )
        response = self._call("iam:GetCredentialReport", self.iam.get_credential_report)
        content = response["Content"]
        if isinstance(content, str):
            content = base64.b64decode(content)
        rows = csv.DictReader(io.StringIO(content.decode("utf-8")))
        return {row["arn"]: row for row in rows if row.get("user") != "<root_account>"}

    def _fill_user_from_report(
        self, account: CollectedAccount, row: dict[str, str], previous: PreviousState
    ) -> list[Callable[[], None]]:
        """Fill password, MFA and key use from a report row; return the calls still needed."""
        follow_ups: list[Callable[[], None]] = []
        account.has_console_password = row["password_enabled"] == "true"
        account.password_last_used = _report_time(row["password_last_used"])

        mfa_active = row["mfa_active"] == "true"
        account.mfa_enabled = mfa_active
        known_devices = previous.mfa_devices.get(account.provider_id)
        if not mfa_active:
            account.mfa_devices = []
        elif known_devices:
            # NOTE: a device replaced since the previous sync keeps the old serial until the per-user
            # strategy runs, because the report only shows whether some device is active.
            account.mfa_devices = known_devices
        else:
            follow_ups.append(lambda: self._fill_mfa_devices(account))

        slots = []
        for number in (1, 2):
            created = _report_time(row[f"access_key_{number}_last_rotated"])
            if created is None:
                continue
            slots.append(
                CollectedAccessKey(
                    access_key_id="",
                    status="Active" if row[f"access_key_{number}_active"] == "true" else "Inactive",
                    created=created,
                    last_used_at=_report_time(row[f"access_key_{number}_last_used_date"]),
                    last_used_service=_report_text(row[f"access_key_{number}_last_used_service"]),
                    last_used_region=_report_text(row[f"access_key_{number}_last_used_region"]),
                )
            )
        known_ids = {key.created: key.access_key_id for key in previous.access_keys.get(account.provider_id, [])}
        for slot in slots:
            slot.access_key_id = known_ids.get(slot.created, "")
        account.access_keys = slots
        if any(not slot.access_key_id for slot in slots):
            follow_ups.append(lambda: self._name_access_keys(account))
        return follow_ups

    def _fill_mfa_devices(self, account: CollectedAccount) -> None:
        devices = self._list(
            account,
            "mfa_devices",
            "iam:ListMFADevices",
            "list_mfa_devices",
            "MFADevices",
            UserName=account.name,
        )
        if devices is not None:
            account.mfa_devices = [_mfa_device(device) for device in devices]

    def _name_access_keys(self, account: CollectedAccount) -> None:
        """Find the ids of keys first seen in the report by matching their creation times."""
        keys = self._list(
            account,
            "access_keys",
            "iam:ListAccessKeys",
            "list_access_keys",
            "AccessKeyMetadata",
            UserName=account.name,
        )
        if keys is None:
            account.access_keys = None
            return
        ids = {_seconds(key.get("CreateDate")): key["AccessKeyId"] for key in keys}
        for slot in account.access_keys or []:
            slot.access_key_id = slot.access_key_id or ids.get(slot.created, "")
        account.access_keys = [slot for slot in account.access_keys or [] if slot.access_key_id]

    def _fill_user_from_calls(self, account: CollectedAccount) -> None:
        """Read a user that is newer than the credential report with per-user calls.

        NOTE: such a user was created after the report. The sync takes it as never having signed
        in to the console until the next report gives the real date.
        """
        self._fill_user(account, None)


def collect(
    *,
    session,
    counter: CallCounter,
    strategy: str,
    previous: PreviousState | None = None,
    on_progress: ProgressCallback | None = None,
    max_concurrency: int | None = None,
) -> CollectionResult:
    """Collect the users, roles and contact information of the account behind `session`.

    Raises AwsError when a call other than a denied sub-call fails after botocore's retries.
    """
    collector = Collector(session=session, counter=counter, max_concurrency=max_concurrency)
    if strategy == BULK:
        try:
            return collector.collect_bulk(previous=previous, on_progress=on_progress)
        except AwsError as error:
            if not (error.is_access_denied and error.action in FAST_COLLECTION_ACTIONS):
                raise
            # The role lost a fast-collection action after the connection check, so collect per user.
            logger.warning("Bulk collection denied %s; collecting per user", error.action)
            collector.warnings.append(CollectionWarning(code=error.code, action=error.action, message=error.message))
            return collector.collect_per_user(on_progress=on_progress)
    if strategy == PER_USER:
        return collector.collect_per_user(on_progress=on_progress)
    raise ValueError(f"unknown collection strategy {strategy!r}: use {PER_USER!r} or {BULK!r}")

"""Connecting an AWS account: the connection check, integrating, settings, retry, enable and disable.

The AWS calls of a check run outside any database transaction, so a slow or throttled AWS never
holds a database lock. The result is then written in one transaction with its audit event.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_event
from integrations.connectors.aws import connection as aws_connection
from integrations.connectors.aws import errors as aws_errors
from integrations.connectors.aws import policies
from integrations.connectors.aws.client import AwsError, platform_account_id
from integrations.models import Integration, SyncRun
from integrations.services.collection import ERROR_FIXES, ERROR_SOURCE_SYNC
from integrations.services.sync_queue import SyncAlreadyRunning, active_run, queue_sync

logger = logging.getLogger(__name__)

CHECK_ASSUME_ROLE = "assume_role"
CHECK_TRUST_POLICY = "trust_policy"
CHECK_PERMISSIONS = "permissions"
CHECK_CONTACT_INFORMATION = "contact_information"

CONTACT_ACTION = "account:GetContactInformation"
# A shorter external id is accepted, but a guessable one weakens the trust policy's protection.
RECOMMENDED_EXTERNAL_ID_LENGTH = 24


@dataclass
class ConnectionResult:
    """The outcome of one connection check, as stored on the Integration."""

    ok: bool
    checks: list[dict] = field(default_factory=list)
    error: aws_errors.ErrorDescription | None = None
    missing_actions: list[str] = field(default_factory=list)
    inferred_actions: list[str] = field(default_factory=list)
    can_offboard_fully: bool = False
    can_collect_fast: bool = False
    contact_information: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return Integration.Status.CONNECTED if self.ok else Integration.Status.FAILED


@dataclass
class IntegrateOutcome:
    integration: Integration
    result: ConnectionResult
    sync_run: SyncRun | None = None
    sync_skipped_reason: str = ""


# The details of a check, stored as codes with parameters and rendered in the reader's language, so
# that a check run by a worker or under another language reads right to every admin.
DETAIL_MESSAGES = {
    "assumed_role": gettext_lazy("Assumed the role with the external ID."),
    "trust_policy_ok": gettext_lazy("The trust policy trusts only account %(account)s and requires this external ID."),
    "baseline_permissions": gettext_lazy("The role has every permission of the baseline policy."),
    "offboarding_permissions": gettext_lazy("It also has the extended offboarding permissions."),
    "offboarding_permissions_missing": gettext_lazy(
        "It lacks some extended offboarding permissions, so some users cannot be deleted fully."
    ),
    "fast_collection": gettext_lazy("It can collect in bulk (credential report and account authorization details)."),
    "inferred_actions": gettext_lazy(
        "These write permissions cannot be tested without changing the account and are assumed present: %(actions)s."
    ),
    "contact_denied": gettext_lazy(
        "Could not read the account's contact information, because the role lacks "
        "account:GetContactInformation. Collection works without it."
    ),
    "contact_failed": gettext_lazy("Could not read the account's contact information (%(error)s)."),
    "contact_read": gettext_lazy("Read the contact information (%(name)s)."),
}
# A detail with this code is a failed check's error: its parameters are the error code and the
# keyword arguments of `aws_errors.describe_error`.
ERROR_DETAIL = "error"


def _detail(message_code: str, **params) -> dict:
    return {"code": message_code, "params": params}


def _check(name: str, ok: bool, details: list[dict], **extra) -> dict:
    return {"check": name, "ok": ok, "details": details, **extra}


def render_check_detail(check: dict) -> str:
    """Render the details of a stored check in the active language."""
    if "details" not in check:
        # Checks stored before the details were codes carry their text.
        return check.get("detail", "")
    parts = []
    for detail in check["details"]:
        params = detail.get("params", {})
        if detail["code"] == ERROR_DETAIL:
            parts.append(aws_errors.describe_error(params["code"], **params["params"]).message)
        else:
            parts.append(str(DETAIL_MESSAGES[detail["code"]]) % params)
    return " ".join(parts)


def describe_last_error(integration: Integration) -> aws_errors.ErrorDescription | None:
    """Render the integration's last error and its fix in the active language, or None without one."""
    if not (integration.last_error_code or integration.last_error_message):
        return None
    params = integration.last_error_params
    if params.get("source") == ERROR_SOURCE_SYNC:
        # A failed sync stores AWS's own message, which has no translation, and the fix by its code.
        fix = ERROR_FIXES.get(integration.last_error_code, "")
        return aws_errors.ErrorDescription(
            code=integration.last_error_code, message=params.get("message", ""), fix=str(fix), params=params
        )
    if params:
        return aws_errors.describe_error(integration.last_error_code, **params)
    # Errors stored before the parameters were kept carry their text.
    return aws_errors.ErrorDescription(
        code=integration.last_error_code, message=integration.last_error_message, fix=integration.last_error_fix
    )


def _fail(result: ConnectionResult, check: str, description: aws_errors.ErrorDescription) -> ConnectionResult:
    result.ok = False
    result.error = description
    result.checks.append(_check(check, False, [_error_detail(description)]))
    return result


def _error_detail(description: aws_errors.ErrorDescription) -> dict:
    return _detail(ERROR_DETAIL, code=description.code, params=description.params)


def run_checks(*, role_arn: str, external_id: str) -> ConnectionResult:
    """Run the four connection checks against AWS and return their results; writes nothing.

    1. AssumeRole with the external id. 2. The role's trust policy (from ListRoles) requires
    exactly that external id and trusts only the platform account. 3. Each permission of the
    policies is probed. 4. The contact information is read; its failure is only a warning.
    """
    result = ConnectionResult(ok=True)
    role = aws_connection.parse_role_arn(role_arn)
    if role is None:
        raise ValueError(f"invalid role ARN {role_arn!r}")

    try:
        platform_id = platform_account_id()
    except AwsError as error:
        return _fail(result, CHECK_ASSUME_ROLE, aws_errors.describe_aws_error(error, role_arn=role_arn))
    describe = {"role_arn": role_arn, "platform_account_id": platform_id}

    try:
        session = aws_connection.assume_role(role_arn=role_arn, external_id=external_id)
    except AwsError as error:
        return _fail(result, CHECK_ASSUME_ROLE, aws_errors.describe_aws_error(error, **describe))
    result.checks.append(_check(CHECK_ASSUME_ROLE, True, [_detail("assumed_role")]))

    try:
        role_entry = aws_connection.read_role(session, role)
    except AwsError as error:
        return _fail(result, CHECK_TRUST_POLICY, aws_errors.describe_aws_error(error, **describe))
    problems = aws_connection.evaluate_trust_policy(
        role_entry["AssumeRolePolicyDocument"], platform_account_id=platform_id, external_id=external_id
    )
    if problems:
        first = problems[0]
        others = [problem.detail for problem in problems if problem.code == first.code and problem.detail]
        description = aws_errors.describe_error(first.code, actions=others, **describe)
        return _fail(result, CHECK_TRUST_POLICY, description)
    result.checks.append(_check(CHECK_TRUST_POLICY, True, [_detail("trust_policy_ok", account=platform_id)]))

    _check_permissions(result, session, role, describe)
    _read_contact_information(result, session)
    return result


def _check_permissions(result: ConnectionResult, session, role, describe: dict) -> None:
    try:
        report = aws_connection.probe_permissions(session, role)
    except AwsError as error:
        _fail(result, CHECK_PERMISSIONS, aws_errors.describe_aws_error(error, **describe))
        return

    result.missing_actions = [
        action for action in policies.BASELINE_ACTIONS if action != CONTACT_ACTION and not report.has(action)
    ]
    result.inferred_actions = sorted(report.inferred)
    result.can_offboard_fully = all(report.has(action) for action in policies.OFFBOARDING_ACTIONS)
    result.can_collect_fast = all(report.has(action) for action in policies.FAST_COLLECTION_ACTIONS)
    extra = {"missing_actions": result.missing_actions, "inferred_actions": result.inferred_actions}
    if result.missing_actions:
        description = aws_errors.describe_error(
            aws_errors.MISSING_PERMISSIONS, actions=result.missing_actions, **describe
        )
        result.ok = False
        result.error = description
        result.checks.append(_check(CHECK_PERMISSIONS, False, [_error_detail(description)], **extra))
        return

    parts = [_detail("baseline_permissions")]
    if result.can_offboard_fully:
        parts.append(_detail("offboarding_permissions"))
    else:
        parts.append(_detail("offboarding_permissions_missing"))
    if result.can_collect_fast:
        parts.append(_detail("fast_collection"))
    if result.inferred_actions:
        parts.append(_detail("inferred_actions", actions=", ".join(result.inferred_actions)))
    result.checks.append(_check(CHECK_PERMISSIONS, True, parts, **extra))


def _read_contact_information(result: ConnectionResult, session) -> None:
    try:
        result.contact_information = aws_connection.read_contact_information(session)
    except AwsError as error:
        if error.is_access_denied:
            result.missing_actions.append(CONTACT_ACTION)
            detail = _detail("contact_denied")
        else:
            detail = _detail("contact_failed", error=error.code)
        result.checks.append(_check(CHECK_CONTACT_INFORMATION, False, [detail], warning=True))
        return
    name = result.contact_information.get("FullName") or result.contact_information.get("CompanyName") or ""
    result.checks.append(_check(CHECK_CONTACT_INFORMATION, True, [_detail("contact_read", name=name)]))


def _snapshot(integration: Integration) -> dict:
    """Audit-safe state of an integration: never the external id itself."""
    return {
        "name": integration.name,
        "role_arn": integration.role_arn,
        "external_id_length": len(integration.external_id),
        "status": integration.status,
        "last_error_code": integration.last_error_code,
        "missing_actions": list(integration.missing_actions),
    }


def check_connection(*, integration: Integration, actor=None) -> ConnectionResult:
    """Run the connection check of an integration and store its result, status and error."""
    logger.info("Connection check started integration=%s", integration.pk)
    result = run_checks(role_arn=integration.role_arn, external_id=integration.external_id)

    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        before = _snapshot(integration)
        if integration.status != Integration.Status.DISABLED:
            integration.status = result.status
        integration.checks = result.checks
        integration.checked_at = timezone.now()
        integration.missing_actions = result.missing_actions
        integration.can_offboard_fully = result.can_offboard_fully
        integration.can_collect_fast = result.can_collect_fast
        if result.contact_information:
            integration.contact_information = result.contact_information
        integration.last_error_code = result.error.code if result.error else ""
        integration.last_error_message = result.error.message if result.error else ""
        integration.last_error_fix = result.error.fix if result.error else ""
        integration.last_error_params = result.error.params if result.error else {}
        integration.save()
        record_event(
            action="integration.checked",
            target=integration,
            actor=actor,
            job="" if actor else "connection check",
            before=before,
            after=_snapshot(integration),
        )
    logger.info(
        "Connection check finished integration=%s ok=%s code=%s",
        integration.pk,
        result.ok,
        result.error.code if result.error else "",
    )
    return result


def _queue_after_check(outcome: IntegrateOutcome, *, trigger: str, actor) -> IntegrateOutcome:
    if not outcome.result.ok:
        return outcome
    try:
        outcome.sync_run = queue_sync(integration=outcome.integration, trigger=trigger, actor=actor)
    except SyncAlreadyRunning as error:
        outcome.sync_run = error.run
        outcome.sync_skipped_reason = str(error)
    return outcome


def default_name(role_arn: str) -> str:
    role = aws_connection.parse_role_arn(role_arn)
    return _("AWS %(account_id)s") % {"account_id": role.account_id if role else ""}


def integrate_aws(*, name: str, role_arn: str, external_id: str, actor=None) -> IntegrateOutcome:
    """Save a new AWS integration, check the connection and, when it passes, queue the first sync.

    The integration is saved even when the check fails, with status `failed` and the fix.
    """
    role = aws_connection.parse_role_arn(role_arn)
    if role is None:
        raise ValueError(f"invalid role ARN {role_arn!r}")
    with transaction.atomic():
        integration = Integration.objects.create(
            service=Integration.Service.AWS,
            name=name.strip() or default_name(role_arn),
            role_arn=role_arn,
            external_id=external_id,
            aws_account_id=role.account_id,
        )
        record_event(action="integration.created", target=integration, actor=actor, after=_snapshot(integration))
    logger.info("Created integration=%s account=%s", integration.pk, role.account_id)

    result = check_connection(integration=integration, actor=actor)
    integration.refresh_from_db()
    outcome = IntegrateOutcome(integration=integration, result=result)
    return _queue_after_check(outcome, trigger=SyncRun.Trigger.INTEGRATE, actor=actor)


def retry_integration(*, integration: Integration, actor=None) -> IntegrateOutcome:
    """Check the connection again and, when it passes, queue a sync.

    Raises SyncAlreadyRunning without calling AWS when a run is already queued or running.
    """
    existing = active_run(integration)
    if existing is not None:
        raise SyncAlreadyRunning(existing)
    result = check_connection(integration=integration, actor=actor)
    integration.refresh_from_db()
    outcome = IntegrateOutcome(integration=integration, result=result)
    return _queue_after_check(outcome, trigger=SyncRun.Trigger.RETRY, actor=actor)


def update_integration_settings(
    *, integration: Integration, name: str, role_arn: str, external_id: str, actor=None
) -> IntegrateOutcome | None:
    """Save the name, role ARN and external id; when the role or external id changed, retry.

    Returns the outcome of the check and sync, or None when only the name changed.
    """
    role = aws_connection.parse_role_arn(role_arn)
    if role is None:
        raise ValueError(f"invalid role ARN {role_arn!r}")
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        before = _snapshot(integration)
        external_id_changed = external_id != integration.external_id
        connection_changed = role_arn != integration.role_arn or external_id_changed
        integration.name = name.strip() or default_name(role_arn)
        integration.role_arn = role_arn
        integration.external_id = external_id
        integration.aws_account_id = role.account_id
        if connection_changed and integration.status != Integration.Status.DISABLED:
            integration.status = Integration.Status.PENDING
        integration.save()
        after = _snapshot(integration)
        after["external_id_changed"] = external_id_changed
        record_event(action="integration.settings_changed", target=integration, actor=actor, before=before, after=after)

    if not connection_changed or integration.status == Integration.Status.DISABLED:
        return None
    result = check_connection(integration=integration, actor=actor)
    integration.refresh_from_db()
    outcome = IntegrateOutcome(integration=integration, result=result)
    return _queue_after_check(outcome, trigger=SyncRun.Trigger.RETRY, actor=actor)


def set_integration_enabled(*, integration: Integration, enabled: bool, actor=None) -> IntegrateOutcome | None:
    """Disable an integration (kept, never synced) or enable it again with a connection check.

    Enabling checks the connection and, when it passes, queues a sync; disabling returns None.
    """
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        before = _snapshot(integration)
        if enabled and integration.status != Integration.Status.DISABLED:
            return None
        if not enabled and integration.status == Integration.Status.DISABLED:
            return None
        integration.status = Integration.Status.PENDING if enabled else Integration.Status.DISABLED
        integration.save(update_fields=["status", "updated_at"])
        record_event(
            action="integration.enabled" if enabled else "integration.disabled",
            target=integration,
            actor=actor,
            before=before,
            after=_snapshot(integration),
        )
    logger.info("Integration integration=%s enabled=%s", integration.pk, enabled)
    if not enabled:
        # A queued run fails when its job starts (collection._start); a running run finishes.
        return None
    result = check_connection(integration=integration, actor=actor)
    integration.refresh_from_db()
    outcome = IntegrateOutcome(integration=integration, result=result)
    return _queue_after_check(outcome, trigger=SyncRun.Trigger.MANUAL, actor=actor)


@transaction.atomic
def delete_integration(*, integration: Integration, actor=None) -> None:
    """Delete an integration and its sync runs, and audit the deletion.

    An integration with stored accounts cannot be deleted (the accounts protect it); disable it.
    """
    record_event(action="integration.deleted", target=integration, actor=actor, before=_snapshot(integration))
    integration.delete()

"""Running a sync run: collect one integration's IAM users and roles, then store them as accounts.

Collection happens outside any transaction. Everything it found is written at the end in one
transaction with a fixed number of queries, so a failed run changes no account and the query count
does not grow with the number of users.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import AccessKey, Person, SaaSAccount
from accounts.user_types import AccountEvidence, decide_user_type
from audit.models import AuditEvent
from audit.services import record_event
from integrations.connectors.aws import collect as aws_collect
from integrations.connectors.aws.client import AwsError, CallCounter, assume_role_session
from integrations.models import Integration, SyncRun

logger = logging.getLogger(__name__)

# Progress is saved at most this many times per run, whatever the number of users.
PROGRESS_STEPS = 20
BULK_UPDATE_BATCH_SIZE = 500

# Fields of SaaSAccount that a sync writes; compared to tell whether an account changed.
SYNCED_FIELDS = (
    "kind",
    "name",
    "arn",
    "path",
    "created_in_service",
    "has_console_password",
    "password_last_used",
    "mfa_enabled",
    "mfa_devices",
    "groups",
    "attached_policies",
    "inline_policies",
    "tags",
    "trusted_principals",
    "service_linked",
    "unreadable",
    "last_activity",
    "status",
    "removed_at",
    "person_id",
    "email",
    "email_source",
    "email_warning",
    "user_type",
    "user_type_reason",
    "user_type_reason_params",
)
ACCESS_KEY_FIELDS = ("status", "created", "last_used_at", "last_used_service", "last_used_region")

# `Integration.last_error_params["source"]` of a failed sync, whose message is AWS's own text.
ERROR_SOURCE_SYNC = "sync"
JOB_TIMED_OUT = "JobTimedOut"
JOB_TIMED_OUT_MESSAGE = _(
    "The sync did not finish within %(seconds)s seconds: its worker stopped or it ran too long. "
    "Nothing it collected was stored; a new sync can start."
)
INTEGRATION_DISABLED = "IntegrationDisabled"
INTEGRATION_DISABLED_MESSAGE = _("The integration was disabled after this sync was queued, so nothing was collected.")
WARNING_MESSAGE = _("Could not call %(action)s (%(code)s), so the accounts lack what it returns.")

ERROR_FIXES = {
    "AccessDenied": _(
        "Check that the role trusts the platform account with this integration's external ID, "
        "and that its permission policy is the one shown on the setup page."
    ),
    "NoSuchEntity": _("Check that the role ARN is right and that the role still exists."),
    "EndpointUnreachable": _("Check the network connection from Rollcall to AWS, then retry."),
    "Timeout": _("AWS did not respond in time. Retry later."),
    "NoPlatformCredentials": _(
        "Give Rollcall's own principal AWS credentials (environment, instance or container role), then retry."
    ),
}


@dataclass
class SyncCounts:
    seen: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    removed_ids: list[str] = field(default_factory=list)


def run_sync_run(*, sync_run_id: int) -> SyncRun | None:
    """Run a queued sync run to the end and return it; a run that is not queued is left alone.

    Returns None when the run no longer exists (its integration was deleted).
    """
    run = _start(sync_run_id)
    if run is None:
        return SyncRun.objects.filter(pk=sync_run_id).first()
    integration = run.integration
    logger.info("Sync started integration=%s run=%s strategy=%s", integration.pk, run.pk, run.strategy)
    counter = CallCounter()
    try:
        session = assume_role_session(
            role_arn=integration.role_arn,
            external_id=integration.external_id,
            session_name=f"rollcall-sync-{run.pk}",
            counter=counter,
        )
        previous = _previous_state(integration) if run.strategy == aws_collect.BULK else None
        result = aws_collect.collect(
            session=session,
            counter=counter,
            strategy=run.strategy,
            previous=previous,
            on_progress=_progress_saver(run.pk),
        )
    except AwsError as error:
        logger.warning(
            "Sync failed integration=%s run=%s action=%s code=%s",
            integration.pk,
            run.pk,
            error.action,
            error.code,
        )
        return _fail(run, code=error.code, message=str(error), counter=counter)
    except Exception as error:
        logger.exception("Sync crashed integration=%s run=%s", integration.pk, run.pk)
        return _fail(run, code=type(error).__name__, message=str(error), counter=counter)
    return store_collection(sync_run_id=run.pk, result=result)


def _start(sync_run_id: int) -> SyncRun | None:
    with transaction.atomic():
        run = (
            SyncRun.objects.select_for_update(of=("self",)).select_related("integration").filter(pk=sync_run_id).first()
        )
        if run is None:
            logger.warning("Sync skipped run=%s: the run does not exist", sync_run_id)
            return None
        if run.status != SyncRun.Status.QUEUED:
            logger.info("Sync skipped run=%s: it is %s, not queued", run.pk, run.status)
            return None
        if run.integration.status == Integration.Status.DISABLED:
            run.status = SyncRun.Status.FAILED
            run.finished_at = timezone.now()
            run.error_code = INTEGRATION_DISABLED
            run.error_message = gettext(INTEGRATION_DISABLED_MESSAGE)
            run.save(update_fields=["status", "finished_at", "error_code", "error_message"])
            record_event(
                action="sync_run.failed",
                target=run,
                job=f"sync_run:{run.pk}",
                after={"error_code": run.error_code},
            )
            logger.info("Sync skipped run=%s integration=%s: the integration is disabled", run.pk, run.integration_id)
            return None
        run.status = SyncRun.Status.RUNNING
        run.started_at = timezone.now()
        fast = run.integration.can_collect_fast
        run.strategy = SyncRun.Strategy.BULK if fast else SyncRun.Strategy.PER_USER
        run.save(update_fields=["status", "started_at", "strategy"])
    return run


def _progress_saver(sync_run_id: int):
    """Return a progress callback that saves done / total at most PROGRESS_STEPS + 1 times."""
    last_step = -1

    def save(done: int, total: int) -> None:
        nonlocal last_step
        step = done * PROGRESS_STEPS // total if total else PROGRESS_STEPS
        if step == last_step:
            return
        last_step = step
        SyncRun.objects.filter(pk=sync_run_id).update(progress_done=done, progress_total=total)

    return save


def _previous_state(integration: Integration) -> aws_collect.PreviousState:
    """Load the access key ids and MFA devices stored by earlier syncs, for the bulk strategy."""
    previous = aws_collect.PreviousState()
    users = SaaSAccount.objects.filter(integration=integration, kind=SaaSAccount.Kind.IAM_USER)
    for provider_id, devices in users.values_list("provider_id", "mfa_devices"):
        if devices:
            previous.mfa_devices[provider_id] = devices
    keys = AccessKey.objects.filter(account__in=users).values_list("account__provider_id", "access_key_id", "created")
    for provider_id, access_key_id, created in keys:
        previous.access_keys.setdefault(provider_id, []).append(
            aws_collect.CollectedAccessKey(access_key_id=access_key_id, status="", created=created)
        )
    return previous


def _fail(run: SyncRun, *, code: str, message: str, counter: CallCounter) -> SyncRun:
    """Mark the run and its integration failed; no account is changed."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update(of=("self",)).select_related("integration").get(pk=run.pk)
        if run.status != SyncRun.Status.RUNNING:
            return run
        run.status = SyncRun.Status.FAILED
        run.finished_at = timezone.now()
        run.error_code = code[:100]
        run.error_message = message
        run.aws_calls = counter.calls
        run.throttled_retries = counter.throttled
        run.save()
        integration = run.integration
        integration.status = Integration.Status.FAILED
        integration.last_error_code = code[:100]
        integration.last_error_message = message
        integration.last_error_fix = str(ERROR_FIXES.get(code, ""))
        integration.last_error_params = {"source": ERROR_SOURCE_SYNC, "message": message}
        integration.save(
            update_fields=[
                "status",
                "last_error_code",
                "last_error_message",
                "last_error_fix",
                "last_error_params",
                "updated_at",
            ]
        )
        record_event(
            action="sync_run.failed",
            target=run,
            job=f"sync_run:{run.pk}",
            after={"error_code": run.error_code, "error": message, "aws_calls": run.aws_calls},
        )
    return run


def store_collection(*, sync_run_id: int, result: aws_collect.CollectionResult) -> SyncRun:
    """Write a finished collection as accounts, in one transaction, and finish the run."""
    now = timezone.now()
    with transaction.atomic():
        run = SyncRun.objects.select_for_update(of=("self",)).select_related("integration").get(pk=sync_run_id)
        if run.status != SyncRun.Status.RUNNING:
            # A stale-run check failed it meanwhile; a newer run may be writing.
            logger.warning("Sync result dropped run=%s: the run is %s", run.pk, run.status)
            return run
        integration = run.integration
        counts = _write_accounts(integration=integration, result=result, now=now, job=f"sync_run:{run.pk}")

        run.status = SyncRun.Status.PARTIAL if result.warnings else SyncRun.Status.SUCCEEDED
        run.strategy = result.strategy
        run.finished_at = now
        run.seen_count = counts.seen
        run.created_count = counts.created
        run.updated_count = counts.updated
        run.removed_count = counts.removed
        run.aws_calls = result.calls
        run.throttled_retries = result.throttled_retries
        run.warnings = [
            {"code": warning.code, "action": warning.action, "message": warning.message} for warning in result.warnings
        ]
        run.save()

        if result.contact_information is not None:
            integration.contact_information = result.contact_information
        if integration.status != Integration.Status.DISABLED:
            integration.status = Integration.Status.CONNECTED
        integration.last_error_code = ""
        integration.last_error_message = ""
        integration.last_error_fix = ""
        integration.last_error_params = {}
        integration.save(
            update_fields=[
                "contact_information",
                "status",
                "last_error_code",
                "last_error_message",
                "last_error_fix",
                "last_error_params",
                "updated_at",
            ]
        )
        record_event(
            action="sync_run.finished",
            target=run,
            job=f"sync_run:{run.pk}",
            after={
                "status": run.status,
                "strategy": run.strategy,
                "seen": counts.seen,
                "created": counts.created,
                "updated": counts.updated,
                "removed": counts.removed,
                "removed_accounts": counts.removed_ids,
                "warnings": run.warnings,
            },
        )
    logger.info(
        "Sync finished integration=%s run=%s status=%s seen=%s created=%s updated=%s removed=%s calls=%s",
        integration.pk,
        run.pk,
        run.status,
        counts.seen,
        counts.created,
        counts.updated,
        counts.removed,
        run.aws_calls,
    )
    return run


def _write_accounts(*, integration: Integration, result: aws_collect.CollectionResult, now, job: str) -> SyncCounts:
    # A merge, unmerge or offboarding of these accounts may commit while this transaction runs.
    # Reading them FOR UPDATE (PostgreSQL; SQLite serializes writers instead) waits for such a change,
    # returns the committed rows and blocks later writers until this transaction commits, so the
    # bulk_update below never writes back a person, email or status from before the change. The pk
    # order matches merge_accounts, to avoid deadlocks.
    locked = (
        SaaSAccount.objects.filter(integration=integration)
        .select_related("person")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    existing = {account.provider_id: account for account in locked}
    stored_keys: dict[int, dict[str, AccessKey]] = {}
    for key in AccessKey.objects.filter(account__integration=integration):
        stored_keys.setdefault(key.account_id, {})[key.access_key_id] = key

    emails = {collected.provider_id: account_email(collected) for collected in result.accounts}
    addresses = {email for email, _source, _warning in emails.values() if email}
    people = {person.email: person for person in Person.objects.filter(email__in=addresses)}

    counts = SyncCounts(seen=len(result.accounts))
    to_create: list[SaaSAccount] = []
    to_update: list[SaaSAccount] = []
    unchanged_ids: list[int] = []
    decision_changes: list[tuple[SaaSAccount, dict]] = []
    for collected in result.accounts:
        account = existing.get(collected.provider_id)
        is_new = account is None
        if is_new:
            account = SaaSAccount(integration=integration, provider_id=collected.provider_id, status="")
        before = _snapshot(account)
        decided_before = _decisions(account)
        _apply(account, collected, emails[collected.provider_id], people, now)
        if is_new:
            to_create.append(account)
        elif _snapshot(account) != before:
            to_update.append(account)
            if _decisions(account) != decided_before:
                decision_changes.append((account, decided_before))
        else:
            unchanged_ids.append(account.pk)

    SaaSAccount.objects.bulk_create(to_create)
    SaaSAccount.objects.bulk_update(to_update, [*SYNCED_FIELDS, "last_seen"], batch_size=BULK_UPDATE_BATCH_SIZE)
    SaaSAccount.objects.filter(pk__in=unchanged_ids).update(last_seen=now)
    counts.created = len(to_create)
    counts.updated = len(to_update)

    seen = {collected.provider_id for collected in result.accounts}
    removed = [
        account
        for provider_id, account in existing.items()
        if provider_id not in seen and account.status == SaaSAccount.Status.ACTIVE
    ]
    removal_states = [_decisions(account) for account in removed]
    SaaSAccount.objects.filter(pk__in=[account.pk for account in removed]).update(
        status=SaaSAccount.Status.REMOVED, removed_at=now
    )
    counts.removed = len(removed)
    counts.removed_ids = [account.provider_id for account in removed]

    _record_account_events(
        job=job, created=to_create, changed=decision_changes, removed=removed, before_removal=removal_states
    )

    accounts = {account.provider_id: account for account in [*to_create, *to_update]}
    accounts.update({pid: existing[pid] for pid in seen if pid in existing and pid not in accounts})
    _write_access_keys(result=result, accounts=accounts, stored_keys=stored_keys)
    return counts


def _decisions(account: SaaSAccount) -> dict:
    """Return the fields whose change an audit event records: status, person, email and user type."""
    return {
        "status": account.status,
        "person": account.person_id,
        "email": account.email,
        "user_type": account.user_type,
    }


def _record_account_events(*, job: str, created, changed, removed, before_removal) -> None:
    """Write one audit event per created, removed or re-decided account, in one query."""
    events = []

    def event(action: str, account: SaaSAccount, before: dict | None, after: dict) -> AuditEvent:
        return AuditEvent(
            job=job,
            action=action,
            object_type=account._meta.label_lower,
            object_id=str(account.pk),
            object_repr=str(account)[:300],
            before=before,
            after=after,
        )

    for account in created:
        events.append(event("account.created", account, None, {**_decisions(account), "kind": account.kind}))
    for account, before in changed:
        events.append(event("account.updated", account, before, _decisions(account)))
    for account, before in zip(removed, before_removal, strict=True):
        events.append(event("account.removed", account, before, {**before, "status": SaaSAccount.Status.REMOVED}))
    AuditEvent.objects.bulk_create(events)


def _snapshot(account: SaaSAccount) -> tuple:
    return tuple(getattr(account, name) for name in SYNCED_FIELDS)


def account_email(collected: aws_collect.CollectedAccount) -> tuple[str, str, str]:
    """Return (email, source, warning) from the `email` tag, else from an email-shaped user name."""
    if collected.kind != SaaSAccount.Kind.IAM_USER:
        return "", "", ""
    warning = ""
    for key, value in (collected.tags or {}).items():
        if key.strip().lower() != "email":
            continue
        candidate = value.strip().lower()
        try:
            validate_email(candidate)
        except ValidationError:
            # NOTE: this warning is stored as text in the language active during the sync (LANGUAGE_CODE
            # in a worker), so the account page shows it in that language, not the reader's.
            warning = gettext("The email tag value %(value)s is not a valid email address, so it is not used.") % {
                "value": value[:150]
            }
            break
        return candidate, SaaSAccount.EmailSource.TAG, ""
    name = collected.name.strip().lower()
    if "@" in name:
        try:
            validate_email(name)
        except ValidationError:
            return "", "", warning
        return name, SaaSAccount.EmailSource.USERNAME, warning
    return "", "", warning


def _apply(account: SaaSAccount, collected: aws_collect.CollectedAccount, email_info, people, now) -> None:
    """Copy the collected evidence onto the account and decide its email, person and user type."""
    account.kind = collected.kind
    account.name = collected.name
    account.arn = collected.arn
    account.path = collected.path
    account.created_in_service = collected.created
    account.has_console_password = collected.has_console_password
    account.password_last_used = collected.password_last_used
    account.mfa_enabled = collected.mfa_enabled
    account.mfa_devices = collected.mfa_devices
    account.groups = collected.groups
    account.attached_policies = collected.attached_policies
    account.inline_policies = collected.inline_policies
    account.tags = collected.tags
    account.trusted_principals = collected.trusted_principals
    account.service_linked = collected.service_linked
    account.unreadable = dict(collected.unreadable)
    account.last_activity = _last_activity(collected)
    account.last_seen = now
    # Only a new account, or one marked removed by an earlier sync that missed it, becomes active.
    # An offboarded account keeps its status: after containment the IAM user still exists, and a
    # sync that listed a user before its deletion finished must not bring it back.
    if account.status in ("", SaaSAccount.Status.REMOVED):
        account.status = SaaSAccount.Status.ACTIVE
        account.removed_at = None

    email, source, warning = email_info
    account.email_warning = warning
    if not account.link_decision:
        account.email = email
        account.email_source = source
        account.person = people.get(email) if email else None
    elif account.link_decision == SaaSAccount.LinkDecision.UNMERGED:
        # A person unmerged it, so it stays unlinked. The email is kept for display.
        account.email = email
        account.email_source = source

    if account.user_type_set_by_id is None:
        person = account.person
        decision = decide_user_type(
            AccountEvidence(
                kind=collected.kind,
                name=collected.name,
                path=collected.path,
                service_linked=collected.service_linked,
                service_principal=collected.service_principal,
                password_last_used=collected.password_last_used,
                access_key_count=len(collected.access_keys or []),
                person_label=(person.name or person.email) if person else "",
                person_kind=person.kind if person else "",
                email="" if person else account.email,
            )
        )
        account.user_type = decision.user_type
        account.user_type_reason = decision.reason_code
        account.user_type_reason_params = decision.reason_params


def _last_activity(collected: aws_collect.CollectedAccount):
    times = [collected.password_last_used] + [key.last_used_at for key in collected.access_keys or []]
    times = [when for when in times if when is not None]
    return max(times) if times else None


def _write_access_keys(*, result, accounts: dict[str, SaaSAccount], stored_keys) -> None:
    """Create, update and delete access keys to match the collection, in at most three queries."""
    to_create: list[AccessKey] = []
    to_update: list[AccessKey] = []
    to_delete: list[int] = []
    for collected in result.accounts:
        if collected.access_keys is None:
            continue  # Unknown this time: keep what an earlier sync stored.
        account = accounts[collected.provider_id]
        stored = dict(stored_keys.get(account.pk, {}))
        for collected_key in collected.access_keys:
            key = stored.pop(collected_key.access_key_id, None)
            values = {
                "status": collected_key.status,
                "created": collected_key.created,
                "last_used_at": collected_key.last_used_at,
                "last_used_service": collected_key.last_used_service,
                "last_used_region": collected_key.last_used_region,
            }
            if key is None:
                to_create.append(AccessKey(account=account, access_key_id=collected_key.access_key_id, **values))
            elif any(getattr(key, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(key, name, value)
                to_update.append(key)
        to_delete.extend(key.pk for key in stored.values())
    AccessKey.objects.filter(pk__in=to_delete).delete()
    AccessKey.objects.bulk_create(to_create)
    AccessKey.objects.bulk_update(to_update, ACCESS_KEY_FIELDS, batch_size=BULK_UPDATE_BATCH_SIZE)


def fail_stale_runs() -> int:
    """Mark failed every run left running longer than the job timeout; return how many.

    A worker that died leaves its run `running`, which blocks new runs of the integration.

    NOTE: a run stays `queued` if its job is lost from the broker (for example a flushed Redis),
    and it blocks new runs until someone fails it. Only `running` runs are checked here.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_TIMEOUT_SECONDS)
    failed = 0
    stale_ids = list(
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING, started_at__lt=cutoff).values_list("pk", flat=True)
    )
    for run_id in stale_ids:
        with transaction.atomic():
            run = SyncRun.objects.select_for_update().get(pk=run_id)
            if run.status != SyncRun.Status.RUNNING:
                continue
            run.status = SyncRun.Status.FAILED
            run.finished_at = timezone.now()
            run.error_code = JOB_TIMED_OUT
            run.error_params = {"seconds": settings.JOB_TIMEOUT_SECONDS}
            run.error_message = gettext(JOB_TIMED_OUT_MESSAGE) % run.error_params
            run.save(update_fields=["status", "finished_at", "error_code", "error_params", "error_message"])
            record_event(
                action="sync_run.failed",
                target=run,
                job="fail_stale_runs",
                after={"error_code": run.error_code, "error": run.error_message},
            )
            failed += 1
        logger.warning("Sync marked failed run=%s: running longer than %ss", run_id, settings.JOB_TIMEOUT_SECONDS)
    return failed


def render_run_error(run: SyncRun) -> str:
    """Render a sync run's error in the active language; AWS's own messages stay as AWS wrote them."""
    if run.error_code == JOB_TIMED_OUT and run.error_params:
        return str(JOB_TIMED_OUT_MESSAGE) % run.error_params
    if run.error_code == INTEGRATION_DISABLED:
        return str(INTEGRATION_DISABLED_MESSAGE)
    return run.error_message


def render_run_warnings(run: SyncRun) -> list[str]:
    """Render a sync run's stored warnings (AWS error code and IAM action) in the active language."""
    return [
        str(WARNING_MESSAGE) % {"action": warning.get("action") or "-", "code": warning.get("code", "")}
        for warning in run.warnings
    ]

"""Offboarding and provisioning services: each change is atomic and writes an audit event.

An offboarding goes planned → queued (confirmed) → running → succeeded or failed. A retry of a
failed one starts at its first step that is not done. Every step is saved as running before its
IAM call and as done or failed after it, so a run that stopped anywhere shows where.
"""

import logging
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Offboarding, OffboardingStep, Person, Provisioning, SaaSAccount
from accounts.offboarding import planning
from accounts.services.evidence import decide_person_user_type
from audit.services import record_event
from integrations.connectors.aws import offboarding as aws
from integrations.connectors.aws.client import AwsError
from integrations.models import Integration

logger = logging.getLogger(__name__)

# A confirmation must follow the plan it confirms closely, or AWS may have changed in between.
PLAN_MAX_AGE = timedelta(hours=1)
# IAM user names: 1 to 64 letters, digits and + = , . @ _ -
IAM_USER_NAME_RE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
SERVICE_LINKED_PATH_PREFIX = "/aws-service-role/"


class OffboardingError(Exception):
    """An offboarding or provisioning request that was rejected; the message states why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _job_name(offboarding: Offboarding) -> str:
    return f"offboarding {offboarding.pk}"


def protected_reason(account: SaaSAccount) -> str:
    """Return why an account is never offboarded ("integration_role", "service_linked_role"), or ""."""
    if account.arn and account.arn == account.integration.role_arn:
        return "integration_role"
    if account.service_linked or account.path.startswith(SERVICE_LINKED_PATH_PREFIX):
        return "service_linked_role"
    return ""


def _open_client(integration: Integration):
    return aws.open_iam_client(role_arn=integration.role_arn, external_id=integration.external_id)


def _build_plan(*, account: SaaSAccount, mode: str) -> tuple[planning.Plan, dict[str, Any]]:
    integration = account.integration
    granted = planning.granted_actions(
        missing_actions=integration.missing_actions, can_offboard_fully=integration.can_offboard_fully
    )
    iam = _open_client(integration)
    if account.kind == SaaSAccount.Kind.IAM_USER:
        read = aws.read_user(iam, user_name=account.name, can_get_login_profile="iam:GetLoginProfile" in granted)
        plan = planning.plan_user(name=account.name, read=read, mode=mode, granted=granted)
    else:
        read = aws.read_role(iam, role_name=account.name)
        plan = planning.plan_role(name=account.name, read=read, mode=mode, granted=granted)
    return plan, read


def plan_offboarding(*, account: SaaSAccount, mode: str, actor=None, job: str = "") -> Offboarding:
    """Read the account fresh from AWS and store a planned offboarding with its steps and blockers.

    A newer plan replaces the account's earlier planned or failed offboardings, which are cancelled.
    Raises OffboardingError when the account is the integration's own role or a service-linked role,
    is being offboarded, or cannot be read from AWS.
    """
    if mode not in Offboarding.Mode.values:
        raise OffboardingError(gettext("Invalid mode %(mode)s: choose delete or contain.") % {"mode": mode})
    reason = protected_reason(account)
    if reason:
        raise OffboardingError(f"{account.name}: {planning.render({'code': reason})}")
    if Offboarding.objects.filter(account=account, status__in=Offboarding.ACTIVE_STATUSES).exists():
        raise OffboardingError(
            gettext("%(account)s is being offboarded already. Wait for that run to finish.") % {"account": account.name}
        )
    try:
        plan, read = _build_plan(account=account, mode=mode)
    except AwsError as error:
        logger.warning("Offboarding plan failed account=%s: %s", account.pk, error.code)
        raise OffboardingError(
            gettext("Could not read %(account)s from AWS to plan its offboarding: %(error)s")
            % {"account": account.name, "error": error}
        ) from error

    with transaction.atomic():
        # Locked so that a confirmation or retry running now either wins first or finds them cancelled.
        superseded = list(
            Offboarding.objects.select_for_update()
            .filter(account=account, status__in=[Offboarding.Status.PLANNED, Offboarding.Status.FAILED])
            .values_list("pk", "status")
        )
        Offboarding.objects.filter(pk__in=[pk for pk, _status in superseded]).update(
            status=Offboarding.Status.CANCELLED, finished_at=timezone.now()
        )
        offboarding = Offboarding.objects.create(
            account=account,
            mode=mode,
            plan={"blockers": plan.blockers, "warnings": plan.warnings},
            snapshot=read,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            requested_by_job=job,
        )
        OffboardingStep.objects.bulk_create(
            OffboardingStep(
                offboarding=offboarding,
                position=position,
                action=step["action"],
                parameters=step["parameters"],
            )
            for position, step in enumerate(plan.steps, start=1)
        )
        record_event(
            action="offboarding.plan",
            target=account,
            actor=actor,
            job=job,
            after={
                "offboarding": offboarding.pk,
                "mode": mode,
                "steps": plan.steps,
                "blockers": plan.blockers,
            },
        )
        # A failed offboarding may have run steps in AWS already, so each cancellation is recorded.
        for superseded_pk, superseded_status in superseded:
            record_event(
                action="offboarding.cancel",
                target=account,
                actor=actor,
                job=job,
                before={"offboarding": superseded_pk, "status": superseded_status},
                after={
                    "offboarding": superseded_pk,
                    "status": Offboarding.Status.CANCELLED,
                    "replaced_by": offboarding.pk,
                },
            )
    logger.info(
        "Planned offboarding=%s account=%s mode=%s steps=%s blockers=%s",
        offboarding.pk,
        account.pk,
        mode,
        len(plan.steps),
        len(plan.blockers),
    )
    return offboarding


def start_offboarding(*, offboarding: Offboarding, typed_name: str = "", actor=None, job: str = "") -> Offboarding:
    """Confirm a planned offboarding and queue its job.

    Full deletion needs `typed_name` to equal the account's name. Only one confirmation wins: the
    status moves from planned to queued in one conditional update. Raises OffboardingError.
    """
    account = offboarding.account
    if offboarding.is_blocked:
        raise OffboardingError(
            gettext("The plan for %(account)s has blockers, so it cannot run. Fix them or plan containment.")
            % {"account": account.name}
        )
    if offboarding.mode == Offboarding.Mode.DELETE and typed_name.strip() != account.name:
        raise OffboardingError(
            gettext("To delete %(account)s, type its name exactly as shown.") % {"account": account.name}
        )
    if offboarding.planned_at < timezone.now() - PLAN_MAX_AGE:
        raise OffboardingError(
            gettext("The plan for %(account)s is older than an hour. Plan it again to read AWS afresh.")
            % {"account": account.name}
        )

    try:
        with transaction.atomic():
            # Locked and read afresh: a sync may have changed the status since the plan was read.
            account = SaaSAccount.objects.select_for_update().get(pk=offboarding.account_id)
            claimed = Offboarding.objects.filter(pk=offboarding.pk, status=Offboarding.Status.PLANNED).update(
                status=Offboarding.Status.QUEUED,
                confirmed_at=timezone.now(),
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                requested_by_job=job,
                previous_account_status=account.status,
            )
            if not claimed:
                raise OffboardingError(
                    gettext(
                        "The plan for %(account)s was confirmed by someone else or replaced. "
                        "Open the offboarding list to see it."
                    )
                    % {"account": account.name}
                )
            before = {"status": account.status}
            account.status = SaaSAccount.Status.OFFBOARDING
            account.save(update_fields=["status"])
            offboarding.refresh_from_db()
            record_event(
                action="offboarding.confirm",
                target=account,
                actor=actor,
                job=job,
                before=before,
                after={"status": account.status, "offboarding": offboarding.pk, "mode": offboarding.mode},
            )
            transaction.on_commit(lambda: _queue(offboarding.pk))
    except IntegrityError as error:
        raise OffboardingError(
            gettext("%(account)s is being offboarded already. Wait for that run to finish.") % {"account": account.name}
        ) from error
    logger.info("Queued offboarding=%s account=%s", offboarding.pk, account.pk)
    return offboarding


def _queue(offboarding_id: int) -> None:
    """Queue the django-q2 task of a committed offboarding; mark it failed when the broker refuses it."""
    from django_q.tasks import async_task

    try:
        async_task(
            "accounts.offboarding.tasks.run_offboarding_task",
            offboarding_id,
            task_name=f"offboarding-{offboarding_id}",
        )
    except Exception as error:
        # The broker (database or Redis) can fail in many ways. An offboarding left queued would keep
        # its account offboarding for good, so it fails, its account status is restored and Retry
        # queues it again. The error text may contain the broker's address, so only its type is kept.
        logger.exception("Could not queue offboarding=%s", offboarding_id)
        claimed = Offboarding.objects.filter(pk=offboarding_id, status=Offboarding.Status.QUEUED).update(
            status=Offboarding.Status.FAILED
        )
        if not claimed:
            return
        offboarding = Offboarding.objects.select_related("requested_by").get(pk=offboarding_id)
        queue_error = AwsError(
            code="QueueUnavailable",
            message=gettext(
                "The offboarding could not be handed to a worker because the task queue is unavailable "
                "(%(error)s). Nothing was changed in AWS. Retry when the queue is back."
            )
            % {"error": type(error).__name__},
        )
        _fail(offboarding, step=None, error=queue_error)


def retry_offboarding(*, offboarding: Offboarding, actor=None, job: str = "") -> Offboarding:
    """Queue a failed offboarding again; its run resumes at the first step that is not done."""
    with transaction.atomic():
        claimed = Offboarding.objects.filter(pk=offboarding.pk, status=Offboarding.Status.FAILED).update(
            status=Offboarding.Status.QUEUED, error_code="", error_message=""
        )
        if not claimed:
            raise OffboardingError(
                gettext("Only a failed offboarding can be retried; this one is %(status)s.")
                % {"status": offboarding.get_status_display()}
            )
        account = SaaSAccount.objects.select_for_update().get(pk=offboarding.account_id)
        before = {"status": account.status}
        account.status = SaaSAccount.Status.OFFBOARDING
        account.save(update_fields=["status"])
        offboarding.refresh_from_db()
        record_event(
            action="offboarding.retry",
            target=account,
            actor=actor,
            job=job,
            before=before,
            after={"status": account.status, "offboarding": offboarding.pk},
        )
        transaction.on_commit(lambda: _queue(offboarding.pk))
    logger.info("Retrying offboarding=%s account=%s", offboarding.pk, offboarding.account_id)
    return offboarding


def cancel_offboarding(*, offboarding: Offboarding, actor=None) -> Offboarding:
    """Cancel a planned or failed offboarding. Steps already done in AWS stay done."""
    with transaction.atomic():
        previous = offboarding.status
        cancelled = Offboarding.objects.filter(
            pk=offboarding.pk, status__in=[Offboarding.Status.PLANNED, Offboarding.Status.FAILED]
        ).update(status=Offboarding.Status.CANCELLED, finished_at=timezone.now())
        if not cancelled:
            raise OffboardingError(
                gettext("Only a planned or failed offboarding can be cancelled; this one is %(status)s.")
                % {"status": offboarding.get_status_display()}
            )
        offboarding.refresh_from_db()
        record_event(
            action="offboarding.cancel",
            target=offboarding.account,
            actor=actor,
            before={"offboarding": offboarding.pk, "status": previous},
            after={"offboarding": offboarding.pk, "status": offboarding.status},
        )
    return offboarding


def run_offboarding(*, offboarding_id: int) -> Offboarding:
    """Run the steps of a queued offboarding in order, recording each before the next one starts.

    A running offboarding is taken over only when it started more than JOB_TIMEOUT_SECONDS ago,
    because django-q2 has stopped its worker by then. A younger one belongs to another delivery of
    the same task. A step found running is run again, which is safe because NoSuchEntity counts as
    done. Any other offboarding is returned unchanged.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_TIMEOUT_SECONDS)
    claimable = Q(status=Offboarding.Status.QUEUED) | Q(
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True), status=Offboarding.Status.RUNNING
    )
    claimed = Offboarding.objects.filter(claimable, pk=offboarding_id).update(
        status=Offboarding.Status.RUNNING, started_at=timezone.now()
    )
    offboarding = Offboarding.objects.select_related("account__integration", "requested_by").get(pk=offboarding_id)
    if not claimed:
        if offboarding.status == Offboarding.Status.RUNNING:
            logger.info(
                "Offboarding=%s is running in another worker since %s, so this delivery stops",
                offboarding.pk,
                offboarding.started_at.isoformat(),
            )
        else:
            logger.info("Offboarding=%s is %s, so there is nothing to run", offboarding.pk, offboarding.status)
        return offboarding
    Offboarding.objects.filter(pk=offboarding.pk).update(attempts=F("attempts") + 1)
    logger.info("Started offboarding=%s account=%s", offboarding.pk, offboarding.account_id)

    steps = list(offboarding.steps.exclude(status__in=OffboardingStep.FINISHED_STATUSES).order_by("position"))
    if steps:
        try:
            iam = _open_client(offboarding.account.integration)
        except AwsError as error:
            return _fail(offboarding, step=None, error=error)
        for step in steps:
            error = _run_step(offboarding, step, iam)
            if error is not None:
                return _fail(offboarding, step=step, error=error)
    return _succeed(offboarding)


def fail_offboarding(*, offboarding_id: int, error: Exception) -> Offboarding:
    """Mark a running offboarding failed after an unexpected error, so its status stays accurate."""
    offboarding = Offboarding.objects.select_related("requested_by").get(pk=offboarding_id)
    if offboarding.status != Offboarding.Status.RUNNING:
        return offboarding
    step = offboarding.steps.filter(status=OffboardingStep.Status.RUNNING).first()
    return _fail(offboarding, step=step, error=AwsError.from_exception(error))


def fail_stale_offboardings() -> int:
    """Mark failed every offboarding left running longer than the job timeout; return how many.

    django-q2 stops a job at JOB_TIMEOUT_SECONDS, so an offboarding still running after that lost
    its worker. Failing it lets Retry resume at the step that was running; that step runs again,
    which is safe because NoSuchEntity counts as done.
    """
    # NOTE: a queued offboarding whose task the broker lost is not failed here, because it cannot be
    # told apart from one waiting behind other jobs: the queue has no time limit, and a retry leaves
    # no queued time on the row. It stays queued, and its account offboarding, until
    # accounts.offboarding.tasks.run_offboarding_task is run again with its id.
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_TIMEOUT_SECONDS)
    stale = Offboarding.objects.filter(status=Offboarding.Status.RUNNING, started_at__lt=cutoff)
    failed = 0
    for offboarding in stale.select_related("requested_by"):
        claimed = Offboarding.objects.filter(pk=offboarding.pk, status=Offboarding.Status.RUNNING).update(
            status=Offboarding.Status.FAILED
        )
        if not claimed:
            continue
        step = offboarding.steps.filter(status=OffboardingStep.Status.RUNNING).first()
        error = AwsError(
            code="JobTimedOut",
            message=gettext(
                "The offboarding did not finish within %(seconds)s seconds: its worker stopped. "
                "Retry resumes at the step that was running."
            )
            % {"seconds": settings.JOB_TIMEOUT_SECONDS},
        )
        _fail(offboarding, step=step, error=error)
        failed += 1
    return failed


def _run_step(offboarding: Offboarding, step: OffboardingStep, iam) -> AwsError | None:
    # Saved before the call, so a run that dies during it leaves this step marked running.
    step.status = OffboardingStep.Status.RUNNING
    step.started_at = timezone.now()
    step.finished_at = None
    step.attempts += 1
    step.request = {"action": step.action, "parameters": step.parameters}
    step.save(update_fields=["status", "started_at", "finished_at", "attempts", "request"])
    Offboarding.objects.filter(pk=offboarding.pk).update(current_step=step.position)

    failure: AwsError | None = None
    try:
        outcome = aws.call_step(iam, action=step.action, parameters=step.parameters)
        step.result, step.aws_request_id = outcome.result, outcome.request_id
        step.status, step.error_code, step.error_message = OffboardingStep.Status.DONE, "", ""
    except AwsError as error:
        step.aws_request_id = error.request_id
        if error.code == "NoSuchEntity":
            step.result = {"NoSuchEntity": error.message}
            step.status, step.error_code, step.error_message = OffboardingStep.Status.DONE, "", ""
        else:
            failure = error
            step.result = None
            step.status, step.error_code, step.error_message = (
                OffboardingStep.Status.FAILED,
                error.code,
                error.message,
            )
    step.finished_at = timezone.now()

    with transaction.atomic():
        step.save(update_fields=["status", "result", "error_code", "error_message", "aws_request_id", "finished_at"])
        record_event(
            action="offboarding.step",
            target=offboarding.account,
            actor=offboarding.requested_by,
            job=_job_name(offboarding),
            after={
                "offboarding": offboarding.pk,
                "position": step.position,
                "action": step.action,
                "parameters": step.parameters,
                "status": step.status,
                "error_code": step.error_code,
            },
            aws_request_id=step.aws_request_id,
        )
    if failure is not None:
        logger.warning(
            "Offboarding=%s step=%s action=%s failed: %s",
            offboarding.pk,
            step.position,
            step.action,
            failure.code,
        )
    return failure


def _fail(offboarding: Offboarding, *, step: OffboardingStep | None, error: AwsError) -> Offboarding:
    with transaction.atomic():
        account = SaaSAccount.objects.select_for_update().get(pk=offboarding.account_id)
        before = {"status": account.status}
        account.status = offboarding.previous_account_status or SaaSAccount.Status.ACTIVE
        account.save(update_fields=["status"])
        offboarding.status = Offboarding.Status.FAILED
        offboarding.error_code = error.code
        offboarding.error_message = str(error)
        offboarding.finished_at = timezone.now()
        offboarding.current_step = step.position if step is not None else offboarding.current_step
        offboarding.save(update_fields=["status", "error_code", "error_message", "finished_at", "current_step"])
        record_event(
            action="offboarding.fail",
            target=account,
            actor=offboarding.requested_by,
            job=_job_name(offboarding),
            before=before,
            after={
                "status": account.status,
                "offboarding": offboarding.pk,
                "step": step.position if step is not None else None,
                "error_code": error.code,
                "error": error.message,
            },
            aws_request_id=error.request_id,
        )
    logger.warning("Stopped offboarding=%s: failed with %s", offboarding.pk, error.code)
    return offboarding


def _succeed(offboarding: Offboarding) -> Offboarding:
    with transaction.atomic():
        account = SaaSAccount.objects.select_for_update().get(pk=offboarding.account_id)
        before = {"status": account.status}
        account.status = SaaSAccount.Status.OFFBOARDED
        account.save(update_fields=["status"])
        offboarding.status = Offboarding.Status.SUCCEEDED
        offboarding.finished_at = timezone.now()
        offboarding.error_code = offboarding.error_message = ""
        offboarding.save(update_fields=["status", "finished_at", "error_code", "error_message"])
        record_event(
            action="offboarding.finish",
            target=account,
            actor=offboarding.requested_by,
            job=_job_name(offboarding),
            before=before,
            after={"status": account.status, "offboarding": offboarding.pk, "mode": offboarding.mode},
        )
    logger.info("Stopped offboarding=%s: succeeded", offboarding.pk)
    return offboarding


def accounts_to_offboard(*, person: Person):
    """Return the person's active accounts, across integrations."""
    return person.accounts.filter(status=SaaSAccount.Status.ACTIVE).select_related("integration")


def validate_iam_user_name(user_name: str) -> str:
    """Return the name stripped, or raise OffboardingError saying what IAM accepts."""
    user_name = user_name.strip()
    if not IAM_USER_NAME_RE.fullmatch(user_name):
        raise OffboardingError(
            gettext("Invalid IAM user name %(name)s: use 1 to 64 letters, digits and the characters + = , . @ _ -")
            % {"name": user_name}
        )
    return user_name


def provision_iam_user(*, person: Person, integration: Integration, user_name: str, actor=None) -> SaaSAccount:
    """Create an IAM user for a person (CreateUser, then TagUser with the email) and link it to them.

    Returns the new SaaSAccount. Raises OffboardingError, after recording a failed Provisioning,
    when AWS rejects a call.
    """
    user_name = validate_iam_user_name(user_name)
    if integration.service != Integration.Service.AWS:
        raise OffboardingError(gettext("%(integration)s is not an AWS integration.") % {"integration": integration})
    if (
        SaaSAccount.objects.filter(integration=integration, kind=SaaSAccount.Kind.IAM_USER, name__iexact=user_name)
        .exclude(status=SaaSAccount.Status.REMOVED)
        .exists()
    ):
        raise OffboardingError(
            gettext("%(integration)s already has an IAM user named %(name)s. Choose another name.")
            % {"integration": integration, "name": user_name}
        )

    calls: list[dict[str, Any]] = []
    try:
        iam = _open_client(integration)
        created = aws.create_user(iam, user_name=user_name)
    except AwsError as error:
        calls.append(_error_record(error))
        _record_failed_provisioning(
            person=person, integration=integration, user_name=user_name, calls=calls, error=error, actor=actor
        )
        raise OffboardingError(_provisioning_message(error, user_name)) from error
    calls.append(_call_record("CreateUser", {"UserName": user_name}, created))

    tags = {"email": person.email}
    tag_error: AwsError | None = None
    try:
        tagged = aws.tag_user(iam, user_name=user_name, tags=tags)
        calls.append(_call_record("TagUser", {"UserName": user_name, "Tags": tags}, tagged))
    except AwsError as error:
        # The user exists in AWS now, so Rollcall keeps its account even though tagging failed.
        tag_error = error
        calls.append(_error_record(error))

    user = created.result["User"]
    with transaction.atomic():
        account = _store_provisioned_account(person=person, integration=integration, user=user, tagged=not tag_error)
        provisioning = Provisioning.objects.create(
            person=person,
            integration=integration,
            user_name=user_name,
            status=Provisioning.Status.FAILED if tag_error else Provisioning.Status.SUCCEEDED,
            account=account,
            calls=calls,
            error_code=tag_error.code if tag_error else "",
            error_message=str(tag_error) if tag_error else "",
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record_event(
            action="provisioning.create_iam_user",
            target=account,
            actor=actor,
            after={
                "provisioning": provisioning.pk,
                "person": person.pk,
                "integration": integration.pk,
                "user_name": account.name,
                "arn": account.arn,
                "tagged": tag_error is None,
            },
            aws_request_id=created.request_id,
        )
    if tag_error is not None:
        logger.warning("Provisioning=%s created the user but TagUser failed: %s", provisioning.pk, tag_error.code)
        raise OffboardingError(
            gettext(
                "The IAM user %(name)s was created and linked to %(person)s, but tagging it with the email "
                "failed: %(error)s. Add the email tag in AWS or give the role iam:TagUser."
            )
            % {"name": user_name, "person": person.email, "error": tag_error}
        )
    logger.info("Provisioned IAM user account=%s integration=%s", account.pk, integration.pk)
    return account


def _store_provisioned_account(
    *, person: Person, integration: Integration, user: dict[str, Any], tagged: bool
) -> SaaSAccount:
    """Insert the account of a new IAM user linked to `person`, or link the row a sync inserted first.

    CreateUser runs before this insert, so a sync that listed the new user in between has already
    stored it under the same IAM id. That row is linked to the person instead of failing the insert.
    """
    decision = decide_person_user_type(person)
    linked = {
        "person": person,
        "link_decision": SaaSAccount.LinkDecision.MERGED,
        "email": person.email,
        "email_source": SaaSAccount.EmailSource.MERGE,
        "user_type": decision.user_type,
        "user_type_reason": decision.reason_code,
        "user_type_reason_params": decision.reason_params,
    }
    try:
        with transaction.atomic():
            return SaaSAccount.objects.create(
                integration=integration,
                kind=SaaSAccount.Kind.IAM_USER,
                provider_id=user["UserId"],
                name=user["UserName"],
                arn=user["Arn"],
                path=user.get("Path", "/"),
                created_in_service=user.get("CreateDate"),
                has_console_password=False,
                tags=[{"Key": "email", "Value": person.email}] if tagged else [],
                last_seen=timezone.now(),
                **linked,
            )
    except IntegrityError:
        account = SaaSAccount.objects.select_for_update().get(integration=integration, provider_id=user["UserId"])
        logger.info("Provisioned IAM user account=%s was stored by a sync first, so it is linked instead", account.pk)
        for name, value in linked.items():
            setattr(account, name, value)
        account.save(update_fields=list(linked))
        return account


def _record_failed_provisioning(
    *, person: Person, integration: Integration, user_name: str, calls: list, error: AwsError, actor
) -> None:
    with transaction.atomic():
        provisioning = Provisioning.objects.create(
            person=person,
            integration=integration,
            user_name=user_name,
            status=Provisioning.Status.FAILED,
            calls=calls,
            error_code=error.code,
            error_message=str(error),
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record_event(
            action="provisioning.fail",
            target=provisioning,
            actor=actor,
            after={"user_name": user_name, "error_code": error.code, "error": error.message},
            aws_request_id=error.request_id,
        )
    logger.warning("Provisioning=%s integration=%s failed: %s", provisioning.pk, integration.pk, error.code)


def _error_record(error: AwsError) -> dict[str, Any]:
    return {
        "action": error.action,
        "error_code": error.code,
        "error": error.message,
        "aws_request_id": error.request_id,
    }


def _call_record(action: str, request: dict[str, Any], outcome: aws.CallResult) -> dict[str, Any]:
    return {
        "action": action,
        "request": request,
        "result": outcome.result,
        "aws_request_id": outcome.request_id,
    }


def _provisioning_message(error: AwsError, user_name: str) -> str:
    if error.code == "EntityAlreadyExists":
        return gettext("AWS already has an IAM user named %(name)s. Choose another name.") % {"name": user_name}
    if error.is_access_denied:
        return gettext("The integration's role may not call %(action)s. Add %(action)s to its permission policy.") % {
            "action": error.action
        }
    return gettext("Creating the IAM user %(name)s failed: %(error)s") % {"name": user_name, "error": error}

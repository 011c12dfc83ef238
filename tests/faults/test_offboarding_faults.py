"""An offboarding whose worker is killed mid-step is failed by the timeout and resumed by Retry."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.models import Offboarding, OffboardingStep
from accounts.offboarding import services
from integrations import tasks
from tests.offboarding.test_services import run, user_exists


def call_as_aws_did(iam, step: OffboardingStep) -> None:
    """Make the step's call with admin rights, as the killed worker's call reached AWS."""
    method = re.sub(r"(?<!^)(?=[A-Z])", "_", step.action).lower()
    getattr(iam, method)(**step.parameters)


def test_killed_offboarding_resumes_at_running_step(
    admin_client, make_integration, make_user, iam, fake_aws, settings, django_capture_on_commit_callbacks
):
    integration = make_integration()
    account = make_user(integration, keys=2)
    offboarding = services.plan_offboarding(account=account, mode="delete")
    # Stop the first run at step 3 so that steps 1 and 2 are done for real.
    fake_aws.inject_fault(action="DeleteAccessKey", nth=2, code="AccessDenied", status=403, message="Denied now")
    offboarding = run(offboarding, django_capture_on_commit_callbacks)
    done_before = {
        step.position: (step.result, step.attempts, step.aws_request_id)
        for step in offboarding.steps.filter(status=OffboardingStep.Status.DONE)
    }
    # Now the state a killed worker leaves: step 3 marked running, its call made in AWS, no result.
    killed_step = offboarding.steps.get(position=3)
    call_as_aws_did(iam, killed_step)
    OffboardingStep.objects.filter(pk=killed_step.pk).update(status=OffboardingStep.Status.RUNNING, error_code="")
    Offboarding.objects.filter(pk=offboarding.pk).update(
        status=Offboarding.Status.RUNNING,
        error_code="",
        error_message="",
        started_at=timezone.now() - timedelta(seconds=settings.JOB_TIMEOUT_SECONDS + 1),
    )

    assert admin_client.post(reverse("admin:accounts_offboarding_retry", args=[offboarding.pk])).status_code == 302
    offboarding.refresh_from_db()
    assert offboarding.status == Offboarding.Status.RUNNING

    assert tasks.fail_stale_runs() == 1
    offboarding.refresh_from_db()
    assert offboarding.status == Offboarding.Status.FAILED
    assert offboarding.error_code == "JobTimedOut"
    assert offboarding.current_step == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:accounts_offboarding_retry", args=[offboarding.pk]))

    offboarding.refresh_from_db()
    steps = {step.position: step for step in offboarding.steps.all()}
    assert response.status_code == 302
    assert offboarding.status == Offboarding.Status.SUCCEEDED
    assert not user_exists(iam, "alice")
    assert "NoSuchEntity" in steps[3].result
    assert steps[3].attempts == 2
    for position, recorded in done_before.items():
        assert (steps[position].result, steps[position].attempts, steps[position].aws_request_id) == recorded


def test_recent_running_offboarding_is_kept(make_integration, make_user, django_capture_on_commit_callbacks):
    integration = make_integration()
    offboarding = services.plan_offboarding(account=make_user(integration), mode="delete")
    Offboarding.objects.filter(pk=offboarding.pk).update(status=Offboarding.Status.RUNNING, started_at=timezone.now())

    assert services.fail_stale_offboardings() == 0
    offboarding.refresh_from_db()
    assert offboarding.status == Offboarding.Status.RUNNING

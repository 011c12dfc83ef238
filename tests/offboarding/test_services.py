import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Offboarding, OffboardingStep, Person, Provisioning, SaaSAccount
from accounts.offboarding import planning, services
from audit.models import AuditEvent
from tests.offboarding.conftest import INLINE_POLICY, managed_policy_arn


def user_exists(iam, name: str) -> bool:
    try:
        iam.get_user(UserName=name)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def run(offboarding, django_capture_on_commit_callbacks, **options):
    """Confirm an offboarding; the job runs inline when the confirmation commits."""
    with django_capture_on_commit_callbacks(execute=True):
        services.start_offboarding(offboarding=offboarding, typed_name=offboarding.account.name, **options)
    offboarding.refresh_from_db()
    return offboarding


def test_baseline_user_in_group_is_blocked(make_integration, make_user, iam, fake_aws):
    integration = make_integration()
    account = make_user(integration, groups=("developers",))

    offboarding = services.plan_offboarding(account=account, mode="delete")

    assert offboarding.status == "planned"
    assert offboarding.blockers == [{"code": "groups", "count": 1, "action": "iam:RemoveUserFromGroup"}]
    with pytest.raises(services.OffboardingError, match="has blockers"):
        services.start_offboarding(offboarding=offboarding, typed_name="alice")
    assert user_exists(iam, "alice")
    assert len(iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]) == 1
    assert not any(action.startswith("Delete") or action.startswith("Detach") for action in fake_aws.calls)
    account.refresh_from_db()
    assert account.status == "active"


def test_baseline_plan_names_each_missing_action(make_integration, make_user):
    integration = make_integration()
    account = make_user(integration, groups=("developers",), inline_policies=("extra",), mfa=True)

    offboarding = services.plan_offboarding(account=account, mode="delete")

    assert {blocker["action"] for blocker in offboarding.blockers} == {
        "iam:RemoveUserFromGroup",
        "iam:DeleteUserPolicy",
        "iam:DeactivateMFADevice",
        "iam:DeleteVirtualMFADevice",
    }


def test_containment_is_offered_with_baseline(make_integration, make_user, iam, django_capture_on_commit_callbacks):
    integration = make_integration()
    account = make_user(integration, keys=2, groups=("developers",), inline_policies=("extra",))

    offboarding = services.plan_offboarding(account=account, mode="contain")
    assert offboarding.blockers == []
    offboarding = run(offboarding, django_capture_on_commit_callbacks)

    assert offboarding.status == "succeeded"
    assert user_exists(iam, "alice")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="alice")
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"] == []
    assert iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"] == []
    account.refresh_from_db()
    assert account.status == "offboarded"


def test_containment_removes_every_access_path(make_integration, make_user, iam, django_capture_on_commit_callbacks):
    integration = make_integration(extended=True)
    account = make_user(integration, groups=("developers",), inline_policies=("extra",), mfa=True, ssh_key=True)
    iam.upload_signing_certificate(UserName="alice", CertificateBody=SIGNING_CERTIFICATE)

    offboarding = services.plan_offboarding(account=account, mode="contain")

    assert offboarding.blockers == []
    assert offboarding.warnings == []
    assert list(offboarding.steps.values_list("action", flat=True)) == [
        "DeleteLoginProfile",
        "DeleteAccessKey",
        "DetachUserPolicy",
        "RemoveUserFromGroup",
        "DeleteUserPolicy",
        "DeleteSigningCertificate",
        "DeleteSSHPublicKey",
    ]
    offboarding = run(offboarding, django_capture_on_commit_callbacks)

    assert offboarding.status == "succeeded"
    assert user_exists(iam, "alice")
    assert iam.list_groups_for_user(UserName="alice")["Groups"] == []
    assert iam.list_user_policies(UserName="alice")["PolicyNames"] == []
    assert iam.list_signing_certificates(UserName="alice")["Certificates"] == []
    assert iam.list_ssh_public_keys(UserName="alice")["SSHPublicKeys"] == []


def test_containment_warns_about_each_kept_access_path(make_integration, make_user):
    integration = make_integration()
    account = make_user(integration, groups=("developers",), inline_policies=("extra",), ssh_key=True)

    offboarding = services.plan_offboarding(account=account, mode="contain")

    assert offboarding.blockers == []
    assert {"RemoveUserFromGroup", "DeleteUserPolicy", "DeleteSSHPublicKey"}.isdisjoint(
        offboarding.steps.values_list("action", flat=True)
    )
    kept = {
        (warning["field"], warning["action"])
        for warning in offboarding.warnings
        if warning["code"] == "access_path_kept"
    }
    assert kept == {("groups", "iam:RemoveUserFromGroup"), ("inline_policies", "iam:DeleteUserPolicy")}
    unread = {
        (warning["field"], warning["action"])
        for warning in offboarding.warnings
        if warning["code"] == "unreadable_contain"
    }
    assert ("ssh_public_keys", "iam:ListSSHPublicKeys") in unread
    assert ("signing_certificates", "iam:ListSigningCertificates") in unread
    texts = [planning.render(warning) for warning in offboarding.warnings]
    assert any("groups (1)" in text and "iam:RemoveUserFromGroup" in text for text in texts)


def test_containment_plans_service_specific_credential_removal():
    # The fake AWS has no service-specific credentials, so this plans from a read that has one.
    read = {
        "exists": True,
        "login_profile": False,
        "service_specific_credentials": [{"ServiceSpecificCredentialId": "ACCA1234567890EXAMPLE"}],
        "unreadable": {},
    }
    granted = planning.granted_actions(missing_actions=[], can_offboard_fully=True)
    baseline = planning.granted_actions(missing_actions=[], can_offboard_fully=False)

    plan = planning.plan_user(name="alice", read=read, mode="contain", granted=granted)
    kept = planning.plan_user(name="alice", read=read, mode="contain", granted=baseline)

    assert plan.steps == [
        {
            "action": "DeleteServiceSpecificCredential",
            "parameters": {"UserName": "alice", "ServiceSpecificCredentialId": "ACCA1234567890EXAMPLE"},
        }
    ]
    assert plan.warnings == []
    assert kept.steps == []
    assert kept.warnings == [
        {
            "code": "access_path_kept",
            "field": "service_specific_credentials",
            "count": 1,
            "action": "iam:DeleteServiceSpecificCredential",
        }
    ]
    assert kept.blockers == []


def test_extended_policy_deletes_user_fully(
    make_integration, make_user, iam, fake_aws, django_capture_on_commit_callbacks
):
    integration = make_integration(extended=True)
    account = make_user(
        integration,
        keys=2,
        groups=("developers", "admins"),
        inline_policies=("extra",),
        mfa=True,
        ssh_key=True,
    )

    offboarding = services.plan_offboarding(account=account, mode="delete")

    assert offboarding.blockers == []
    actions = list(offboarding.steps.values_list("action", flat=True))
    assert actions == [
        "DeleteLoginProfile",
        "DeleteAccessKey",
        "DeleteAccessKey",
        "DetachUserPolicy",
        "RemoveUserFromGroup",
        "RemoveUserFromGroup",
        "DeleteUserPolicy",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "DeleteSSHPublicKey",
        "DeleteUser",
    ]
    snapshot = offboarding.snapshot
    assert sorted(group["GroupName"] for group in snapshot["groups"]) == ["admins", "developers"]
    assert len(snapshot["access_keys"]) == 2
    assert snapshot["mfa_devices"][0]["SerialNumber"].endswith(":mfa/alice-mfa")
    assert snapshot["tags"] == [{"Key": "team", "Value": "platform"}]
    assert snapshot["inline_policies"] == ["extra"]

    offboarding = run(offboarding, django_capture_on_commit_callbacks)

    assert offboarding.status == "succeeded"
    assert not user_exists(iam, "alice")
    assert set(offboarding.steps.values_list("status", flat=True)) == {"done"}
    assert all(step.aws_request_id for step in offboarding.steps.all())
    account.refresh_from_db()
    assert account.status == "offboarded"
    step_events = AuditEvent.objects.filter(action="offboarding.step", object_id=str(account.pk))
    assert step_events.count() == len(actions)
    assert all(event.aws_request_id for event in step_events)


def test_fault_at_step_three_then_retry(make_integration, make_user, iam, fake_aws, django_capture_on_commit_callbacks):
    integration = make_integration()
    account = make_user(integration, keys=2)
    offboarding = services.plan_offboarding(account=account, mode="delete")
    # Steps: DeleteLoginProfile, DeleteAccessKey, DeleteAccessKey, DetachUserPolicy, DeleteUser.
    fake_aws.inject_fault(action="DeleteAccessKey", nth=2, code="AccessDenied", status=403, message="Denied now")

    offboarding = run(offboarding, django_capture_on_commit_callbacks)

    assert offboarding.status == "failed"
    assert offboarding.current_step == 3
    assert offboarding.error_code == "AccessDenied"
    steps = {step.position: step for step in offboarding.steps.all()}
    assert steps[1].status == "done"
    assert steps[2].status == "done"
    assert steps[1].result is not None
    assert steps[3].status == "failed"
    assert steps[3].error_message == "Denied now"
    assert steps[4].status == "pending"
    account.refresh_from_db()
    assert account.status == "active"
    assert user_exists(iam, "alice")

    with django_capture_on_commit_callbacks(execute=True):
        services.retry_offboarding(offboarding=offboarding)
    offboarding.refresh_from_db()

    assert offboarding.status == "succeeded"
    assert not user_exists(iam, "alice")
    steps = {step.position: step for step in offboarding.steps.all()}
    assert steps[1].attempts == 1
    assert steps[2].attempts == 1
    assert steps[3].attempts == 2
    assert {step.status for step in steps.values()} == {"done"}
    account.refresh_from_db()
    assert account.status == "offboarded"


def test_finished_offboarding_runs_again_unchanged(
    make_integration, make_user, fake_aws, django_capture_on_commit_callbacks
):
    integration = make_integration()
    account = make_user(integration)
    offboarding = run(services.plan_offboarding(account=account, mode="delete"), django_capture_on_commit_callbacks)
    assert offboarding.status == "succeeded"
    calls_before = dict(fake_aws.calls)
    events_before = AuditEvent.objects.count()

    again = services.run_offboarding(offboarding_id=offboarding.pk)

    assert again.status == "succeeded"
    assert dict(fake_aws.calls) == calls_before
    assert AuditEvent.objects.count() == events_before
    with pytest.raises(services.OffboardingError):
        services.retry_offboarding(offboarding=offboarding)


def test_step_left_running_is_run_again(make_integration, make_user, iam, django_capture_on_commit_callbacks):
    integration = make_integration()
    account = make_user(integration, keys=1)
    offboarding = services.plan_offboarding(account=account, mode="delete")
    with django_capture_on_commit_callbacks(execute=False):
        services.start_offboarding(offboarding=offboarding, typed_name="alice")
    # A worker deleted the login profile and died before recording it.
    iam.delete_login_profile(UserName="alice")
    lost_at = timezone.now() - timedelta(seconds=settings.JOB_TIMEOUT_SECONDS + 60)
    Offboarding.objects.filter(pk=offboarding.pk).update(status="running", current_step=1, started_at=lost_at)
    OffboardingStep.objects.filter(offboarding=offboarding, position=1).update(status="running", attempts=1)

    offboarding = services.run_offboarding(offboarding_id=offboarding.pk)

    assert offboarding.status == "succeeded"
    first = offboarding.steps.get(position=1)
    assert first.status == "done"
    assert first.attempts == 2
    assert "NoSuchEntity" in first.result
    assert not user_exists(iam, "alice")


def test_second_delivery_leaves_running_offboarding(make_integration, make_user, iam, fake_aws):
    integration = make_integration()
    account = make_user(integration, keys=1)
    offboarding = services.plan_offboarding(account=account, mode="delete")
    services.start_offboarding(offboarding=offboarding, typed_name="alice")
    # The first delivery claimed it a minute ago and is still running its steps.
    started_at = timezone.now() - timedelta(seconds=60)
    Offboarding.objects.filter(pk=offboarding.pk).update(status="running", started_at=started_at, attempts=1)
    calls_before = fake_aws.calls.total

    offboarding = services.run_offboarding(offboarding_id=offboarding.pk)

    assert offboarding.status == "running"
    assert offboarding.started_at == started_at
    assert offboarding.attempts == 1
    assert fake_aws.calls.total == calls_before
    assert set(offboarding.steps.values_list("status", flat=True)) == {"pending"}
    assert user_exists(iam, "alice")


def test_confirmation_reads_account_status_afresh(make_integration, make_user):
    integration = make_integration()
    account = make_user(integration)
    offboarding = services.plan_offboarding(account=account, mode="contain")
    offboarding = Offboarding.objects.select_related("account").get(pk=offboarding.pk)
    # A sync found the user gone after the offboarding and its account were loaded.
    SaaSAccount.objects.filter(pk=account.pk).update(status="removed")

    services.start_offboarding(offboarding=offboarding)

    offboarding.refresh_from_db()
    assert offboarding.previous_account_status == "removed"
    confirm = AuditEvent.objects.get(action="offboarding.confirm")
    assert confirm.before == {"status": "removed"}


def test_new_plan_records_each_cancellation(make_integration, make_user, fake_aws, django_capture_on_commit_callbacks):
    integration = make_integration()
    account = make_user(integration, keys=2)
    fake_aws.inject_fault(action="DeleteAccessKey", nth=2, code="AccessDenied", status=403, message="Denied now")
    failed = run(services.plan_offboarding(account=account, mode="delete"), django_capture_on_commit_callbacks)
    assert failed.status == "failed"
    # A second open row, so the new plan cancels two rows and must record two events.
    planned = Offboarding.objects.create(account=account, mode="contain")

    replacement = services.plan_offboarding(account=account, mode="contain")

    assert set(Offboarding.objects.filter(pk__in=[failed.pk, planned.pk]).values_list("status", flat=True)) == {
        "cancelled"
    }
    events = AuditEvent.objects.filter(action="offboarding.cancel", object_id=str(account.pk))
    assert sorted((event.before["offboarding"], event.before["status"]) for event in events) == [
        (failed.pk, "failed"),
        (planned.pk, "planned"),
    ]
    assert {event.after["replaced_by"] for event in events} == {replacement.pk}
    assert {event.after["status"] for event in events} == {"cancelled"}


def test_broker_down_fails_offboarding(
    make_integration, make_user, iam, monkeypatch, django_capture_on_commit_callbacks
):
    integration = make_integration()
    account = make_user(integration)
    offboarding = services.plan_offboarding(account=account, mode="contain")
    # A Redis broker that nothing listens on, as when Redis is down.
    monkeypatch.setattr("django_q.tasks.Conf.SYNC", False)
    monkeypatch.setattr("django_q.conf.Conf.ORM", None)
    monkeypatch.setattr("django_q.conf.Conf.REDIS", "redis://127.0.0.1:1/0")

    with django_capture_on_commit_callbacks(execute=True):
        services.start_offboarding(offboarding=offboarding)

    offboarding.refresh_from_db()
    account.refresh_from_db()
    assert offboarding.status == "failed"
    assert offboarding.error_code == "QueueUnavailable"
    assert "task queue is unavailable" in offboarding.error_message
    assert "127.0.0.1" not in offboarding.error_message
    assert account.status == "active"
    assert AuditEvent.objects.get(action="offboarding.fail").after["error_code"] == "QueueUnavailable"
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"] != []

    monkeypatch.setattr("django_q.tasks.Conf.SYNC", True)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_offboarding(offboarding=offboarding)

    offboarding.refresh_from_db()
    assert offboarding.status == "succeeded"
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"] == []


def test_second_confirmation_loses(make_integration, make_user, django_capture_on_commit_callbacks):
    integration = make_integration()
    account = make_user(integration)
    offboarding = services.plan_offboarding(account=account, mode="contain")
    stale_copy = Offboarding.objects.get(pk=offboarding.pk)
    with django_capture_on_commit_callbacks(execute=False):
        services.start_offboarding(offboarding=offboarding)

    with pytest.raises(services.OffboardingError, match="confirmed by someone else"):
        services.start_offboarding(offboarding=stale_copy)

    assert AuditEvent.objects.filter(action="offboarding.confirm").count() == 1


def test_deletion_needs_typed_name(make_integration, make_user):
    integration = make_integration()
    account = make_user(integration)
    offboarding = services.plan_offboarding(account=account, mode="delete")

    with pytest.raises(services.OffboardingError, match="type its name"):
        services.start_offboarding(offboarding=offboarding, typed_name="alicee")

    offboarding.refresh_from_db()
    assert offboarding.status == "planned"


def test_old_plan_must_be_planned_again(make_integration, make_user):
    integration = make_integration()
    account = make_user(integration)
    offboarding = services.plan_offboarding(account=account, mode="contain")
    Offboarding.objects.filter(pk=offboarding.pk).update(planned_at=timezone.now() - timedelta(hours=2))
    offboarding.refresh_from_db()

    with pytest.raises(services.OffboardingError, match="older than an hour"):
        services.start_offboarding(offboarding=offboarding)

    offboarding.refresh_from_db()
    assert offboarding.status == "planned"


def test_integration_role_is_never_offered(make_integration, fake_aws):
    integration = make_integration()
    account = SaaSAccount.objects.create(
        integration=integration,
        kind="iam_role",
        provider_id="AROAEXAMPLEINTEGRATION",
        name="RollcallAccessProduction",
        arn=integration.role_arn,
    )

    for mode in ("delete", "contain"):
        with pytest.raises(services.OffboardingError, match="the role Rollcall uses for this integration"):
            services.plan_offboarding(account=account, mode=mode)
    assert not Offboarding.objects.exists()
    assert fake_aws.calls.total == 0


def test_service_linked_role_is_never_offered(make_integration):
    integration = make_integration()
    account = SaaSAccount.objects.create(
        integration=integration,
        kind="iam_role",
        provider_id="AROAEXAMPLESERVICE",
        name="AWSServiceRoleForSupport",
        arn="arn:aws:iam::222222222222:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport",
        path="/aws-service-role/support.amazonaws.com/",
    )

    with pytest.raises(services.OffboardingError, match="service-linked role"):
        services.plan_offboarding(account=account, mode="delete")

    assert not Offboarding.objects.exists()


def test_role_deleted_with_extended_policy(make_integration, iam, django_capture_on_commit_callbacks):
    integration = make_integration(extended=True)
    role = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.attach_role_policy(RoleName="deploy", PolicyArn=managed_policy_arn(iam, "ReadOnly"))
    iam.put_role_policy(RoleName="deploy", PolicyName="extra", PolicyDocument=INLINE_POLICY)
    iam.create_instance_profile(InstanceProfileName="deploy-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="deploy-profile", RoleName="deploy")
    account = SaaSAccount.objects.create(
        integration=integration, kind="iam_role", provider_id=role["RoleId"], name="deploy", arn=role["Arn"]
    )

    offboarding = services.plan_offboarding(account=account, mode="delete")
    assert list(offboarding.steps.values_list("action", flat=True)) == [
        "DetachRolePolicy",
        "DeleteRolePolicy",
        "RemoveRoleFromInstanceProfile",
        "DeleteRole",
    ]
    offboarding = run(offboarding, django_capture_on_commit_callbacks)

    assert offboarding.status == "succeeded"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="deploy")


def test_role_inline_policy_blocks_with_baseline(make_integration, iam):
    integration = make_integration()
    role = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.put_role_policy(RoleName="deploy", PolicyName="extra", PolicyDocument=INLINE_POLICY)
    account = SaaSAccount.objects.create(
        integration=integration, kind="iam_role", provider_id=role["RoleId"], name="deploy", arn=role["Arn"]
    )

    offboarding = services.plan_offboarding(account=account, mode="delete")

    assert [blocker["action"] for blocker in offboarding.blockers] == ["iam:DeleteRolePolicy"]


def test_user_gone_from_aws_counts_as_done(make_integration, make_user, iam, django_capture_on_commit_callbacks):
    integration = make_integration()
    account = make_user(integration, password=False, keys=0, policies=())
    iam.delete_user(UserName="alice")

    offboarding = services.plan_offboarding(account=account, mode="delete")
    assert offboarding.warnings == [{"code": "not_found"}]
    offboarding = run(offboarding, django_capture_on_commit_callbacks)

    assert offboarding.status == "succeeded"


def test_provision_iam_user_links_person(make_integration, iam):
    integration = make_integration()
    person = Person.objects.create(email="Bob@Example.com", name="Bob")

    account = services.provision_iam_user(person=person, integration=integration, user_name="bob.smith")

    tags = iam.list_user_tags(UserName="bob.smith")["Tags"]
    assert tags == [{"Key": "email", "Value": "bob@example.com"}]
    assert account.person == person
    assert account.email == "bob@example.com"
    assert account.link_decision == "merged"
    assert account.provider_id.startswith("AIDA")
    assert account.user_type == "employee"
    event = AuditEvent.objects.get(action="provisioning.create_iam_user")
    assert event.object_id == str(account.pk)
    assert event.aws_request_id


def test_provision_links_row_a_sync_stored_first(make_integration, iam):
    integration = make_integration()
    person = Person.objects.create(email="bob@example.com", name="Bob")
    synced: list[SaaSAccount | None] = []

    def sync_inserts_first(execute, sql, params, many, context):
        # A sync lists the new IAM user and stores it at the first database statement after CreateUser.
        if not synced and user_exists(iam, "bob.smith"):
            user = iam.get_user(UserName="bob.smith")["User"]
            synced.append(None)  # The sync's own insert passes through this wrapper too.
            synced[0] = SaaSAccount.objects.create(
                integration=integration,
                kind=SaaSAccount.Kind.IAM_USER,
                provider_id=user["UserId"],
                name=user["UserName"],
                arn=user["Arn"],
            )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(sync_inserts_first):
        account = services.provision_iam_user(person=person, integration=integration, user_name="bob.smith")

    assert len(synced) == 1
    assert account.pk == synced[0].pk
    account.refresh_from_db()
    assert account.person == person
    assert account.link_decision == "merged"
    assert account.email == "bob@example.com"
    assert SaaSAccount.objects.filter(integration=integration).count() == 1
    provisioning = Provisioning.objects.get()
    assert provisioning.status == "succeeded"
    assert provisioning.account == account
    event = AuditEvent.objects.get(action="provisioning.create_iam_user")
    assert event.object_id == str(account.pk)


@pytest.mark.parametrize("user_name", ["", "bob smith", "b" * 65, "bob/smith", "ボブ"])
def test_provision_rejects_invalid_name(make_integration, iam, user_name):
    integration = make_integration()
    person = Person.objects.create(email="bob@example.com")

    with pytest.raises(services.OffboardingError, match="Invalid IAM user name"):
        services.provision_iam_user(person=person, integration=integration, user_name=user_name)

    assert iam.list_users()["Users"] == []
    assert not SaaSAccount.objects.exists()


def test_provision_existing_name_fails(make_integration, iam):
    integration = make_integration()
    iam.create_user(UserName="bob")
    person = Person.objects.create(email="bob@example.com")

    with pytest.raises(services.OffboardingError, match="already has an IAM user named bob"):
        services.provision_iam_user(person=person, integration=integration, user_name="bob")

    assert not SaaSAccount.objects.exists()
    assert person.provisionings.get().status == "failed"


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def test_unseen_certificate_fails_at_delete_user(
    make_integration, make_user, iam, fake_aws, django_capture_on_commit_callbacks
):
    integration = make_integration()
    account = make_user(integration)
    iam.upload_signing_certificate(UserName="alice", CertificateBody=SIGNING_CERTIFICATE)

    offboarding = services.plan_offboarding(account=account, mode="delete")
    warned_fields = {warning["field"] for warning in offboarding.warnings if warning["code"] == "unreadable"}
    assert "signing_certificates" in warned_fields
    offboarding = run(offboarding, django_capture_on_commit_callbacks)

    assert offboarding.status == "failed"
    assert offboarding.error_code == "DeleteConflict"
    failed = offboarding.steps.get(status="failed")
    assert failed.action == "DeleteUser"
    assert failed.position == offboarding.current_step
    assert user_exists(iam, "alice")
    fail_event = AuditEvent.objects.get(action="offboarding.fail")
    assert fail_event.after["step"] == failed.position


def test_missing_delete_user_permission_blocks(make_integration, make_user):
    integration = make_integration()
    integration.missing_actions = ["iam:DeleteUser"]
    integration.save()
    account = make_user(integration)

    deletion = services.plan_offboarding(account=account, mode="delete")
    containment = services.plan_offboarding(account=account, mode="contain")

    assert deletion.blockers == [
        {"code": "missing_action", "count": 1, "step": "DeleteUser", "action": "iam:DeleteUser"}
    ]
    assert containment.blockers == []


def test_provision_keeps_user_when_tagging_fails(make_integration, iam, fake_aws):
    integration = make_integration()
    person = Person.objects.create(email="erin@example.com")
    fake_aws.inject_fault(action="TagUser", code="AccessDenied", status=403, message="No TagUser")

    with pytest.raises(services.OffboardingError, match="was created and linked to erin@example.com"):
        services.provision_iam_user(person=person, integration=integration, user_name="erin")

    account = SaaSAccount.objects.get(name="erin")
    assert account.person == person
    assert iam.list_user_tags(UserName="erin")["Tags"] == []
    provisioning = person.provisionings.get()
    assert provisioning.status == "failed"
    assert provisioning.account == account
    assert provisioning.error_code == "AccessDenied"


SIGNING_CERTIFICATE = """-----BEGIN CERTIFICATE-----
MIIBpzCCARACCQCY5yOdxCTrGjANBgkqhkiG9w0BAQsFADAXMRUwEwYDVQQKDAxt
b3RvIHRlc3RpbmcwIBcNMTgxMTA1MTkwNTIwWhgPMjI5MjA4MTkxOTA1MjBaMBcx
FTATBgNVBAoMDG1vdG8gdGVzdGluZzCBnzANBgkqhkiG9w0BAQEFAAOBjQAwgYkC
gYEA1Jn3g2h7LD3FLqdpcYNbFXCS4V4eDpuTCje9vKFcC3pi/01147X3zdfPy8Mt
ZhKxcREOwm4NXykh23P9KW7fBovpNwnbYsbPqj8Hf1ZaClrgku1arTVhEnKjx8zO
vaR/bVLCss4uE0E0VM1tJn/QGQsfthFsjuHtwx8uIWz35tUCAwEAATANBgkqhkiG
9w0BAQsFAAOBgQBWdOQ7bDc2nWkUhFjZoNIZrqjyNdjlMUndpwREVD7FQ/DuxJMj
FyDHrtlrS80dPUQWNYHw++oACDpWO01LGLPPrGmuO/7cOdojPEd852q5gd+7W9xt
8vUH+pBa6IBLbvBp+szli51V3TLSWcoyy4ceJNQU2vCkTLoFdS0RLd/7tQ==
-----END CERTIFICATE-----"""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Offboarding


def test_plan_prints_steps_and_blockers(make_integration, make_user, iam, capsys):
    integration = make_integration()
    ready = make_user(integration, "alice")
    blocked = make_user(integration, "bob", groups=("developers",))

    with pytest.raises(CommandError) as raised:
        call_command("offboard", str(ready.pk), blocked.arn, "--mode", "delete", "--plan")

    output = capsys.readouterr().out
    assert raised.value.returncode == 1
    assert "alice" in output
    assert "1. DeleteLoginProfile {'UserName': 'alice'}" in output
    assert "DeleteUser {'UserName': 'alice'}" in output
    assert "BLOCKED: The user is in 1 group(s). Removing it from them needs iam:RemoveUserFromGroup." in output
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "alice"
    assert set(Offboarding.objects.values_list("status", flat=True)) == {"planned"}


# The command waits for the job, which runs when its transaction commits: these tests need real commits.
@pytest.mark.django_db(transaction=True)
def test_yes_runs_and_reports_each_result(make_integration, make_user, iam, capsys):
    integration = make_integration()
    account = make_user(integration, "alice")

    call_command("offboard", str(account.pk), "--mode", "delete", "--yes")

    assert "alice: succeeded" in capsys.readouterr().out
    assert iam.list_users()["Users"] == [] or all(user["UserName"] != "alice" for user in iam.list_users()["Users"])
    offboarding = Offboarding.objects.get()
    assert offboarding.requested_by_job == "manage.py offboard"


@pytest.mark.django_db(transaction=True)
def test_yes_fails_when_a_step_fails(make_integration, make_user, fake_aws, capsys):
    integration = make_integration()
    account = make_user(integration, "alice", keys=2)
    fake_aws.inject_fault(action="DeleteAccessKey", nth=2, code="AccessDenied", status=403, message="Denied now")

    with pytest.raises(CommandError) as raised:
        call_command("offboard", account.arn, "--mode", "delete", "--yes")

    assert raised.value.returncode == 1
    assert "alice: failed at step 3: iam:DeleteAccessKey: AccessDenied: Denied now" in capsys.readouterr().out


def test_unknown_account_is_rejected(db):
    with pytest.raises(CommandError, match="Account 999 not found"):
        call_command("offboard", "999", "--mode", "contain", "--plan")

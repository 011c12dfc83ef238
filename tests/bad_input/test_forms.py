"""Malformed, empty, oversized and hostile values in every form and command get a clear error and change nothing."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.forms import PEOPLE_IMPORT_MAX_BYTES
from accounts.models import MergeRecord, Offboarding, Person, Provisioning, SaaSAccount
from accounts.offboarding.services import plan_offboarding
from integrations.models import Integration

SCRIPT = "<script>alert('rollcall')</script>"
ROLE_ARN = "arn:aws:iam::222222222222:role/RollcallAccess"
EXTERNAL_ID = "rollcall-valid-external-id-0123456789abcdef"

BAD_ARNS = [
    "",
    "   ",
    "not-an-arn",
    "arn:aws:iam::12345:role/RollcallAccess",
    "arn:aws:iam::222222222222:user/alice",
    "arn:aws:s3:::bucket",
    "arn:aws:iam::222222222222:role/" + "r" * 3000,
    f"arn:aws:iam::222222222222:role/{SCRIPT}",
    "arn:aws:iam::222222222222:role/名前",
    "arn:aws:iam::222222222222:role/a\x00b",
]
BAD_EXTERNAL_IDS = ["", "   ", "x", "x" * 2000, SCRIPT, "外部ID" * 12, "has spaces in the external id 0123456789"]


def assert_clean_error(response, field: str) -> None:
    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "<script>alert(" not in content


@pytest.mark.parametrize("role_arn", BAD_ARNS)
def test_integrate_rejects_bad_arn(admin_client, fake_aws, role_arn):
    response = admin_client.post(
        reverse("admin:integrations_integration_add"), {"name": "", "role_arn": role_arn, "external_id": EXTERNAL_ID}
    )

    assert_clean_error(response, "role_arn")
    assert Integration.objects.count() == 0
    assert fake_aws.calls.get("AssumeRole", 0) == 0


@pytest.mark.parametrize("external_id", BAD_EXTERNAL_IDS)
def test_integrate_rejects_bad_external_id(admin_client, fake_aws, external_id):
    response = admin_client.post(
        reverse("admin:integrations_integration_add"), {"name": "", "role_arn": ROLE_ARN, "external_id": external_id}
    )

    assert_clean_error(response, "external_id")
    assert Integration.objects.count() == 0
    assert fake_aws.calls.get("AssumeRole", 0) == 0


def test_integrate_rejects_oversized_name(admin_client, fake_aws):
    response = admin_client.post(
        reverse("admin:integrations_integration_add"),
        {"name": "n" * 201, "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID},
    )

    assert_clean_error(response, "name")
    assert Integration.objects.count() == 0


@pytest.mark.parametrize("role_arn", ["not-an-arn", ""])
def test_integrate_command_rejects_bad_arn(db, fake_aws, role_arn):
    with pytest.raises(CommandError, match="Invalid input, nothing was saved"):
        call_command("integrate_aws", role_arn=role_arn, external_id=EXTERNAL_ID)

    assert Integration.objects.count() == 0
    assert fake_aws.calls.get("AssumeRole", 0) == 0


def test_settings_edit_rejects_bad_arn(admin_client, make_integration, fake_aws):
    integration = make_integration()
    before = (integration.role_arn, integration.external_id)
    fake_aws.reset_calls()

    response = admin_client.post(
        reverse("admin:integrations_integration_change", args=[integration.pk]),
        {"name": "Production", "role_arn": "not-an-arn", "external_id": integration.external_id},
    )

    integration.refresh_from_db()
    assert_clean_error(response, "role_arn")
    assert (integration.role_arn, integration.external_id) == before
    assert fake_aws.calls.total == 0


CSV_HEADER = b"email,name,kind,status,left_on\n"
BAD_CSV_FILES = {
    "empty file": b"",
    "header only": CSV_HEADER,
    "no email column": b"name,kind\nAlice,employee\n",
    "binary": bytes(range(256)) * 4,
    "invalid email": CSV_HEADER + b"not-an-email,Alice,employee,active,\n",
    "script as email": CSV_HEADER + SCRIPT.encode() + b",Alice,employee,active,\n",
    "invalid kind": CSV_HEADER + b"alice@example.com,Alice,robot,active,\n",
    "invalid date": CSV_HEADER + b"alice@example.com,Alice,employee,left,31/31/2026\n",
    "name too long": CSV_HEADER + b"alice@example.com," + b"a" * 201 + b",employee,active,\n",
    "one bad row among good": CSV_HEADER + b"alice@example.com,Alice,employee,active,\nbob@,Bob,employee,active,\n",
}


@pytest.mark.parametrize("data", list(BAD_CSV_FILES.values()), ids=list(BAD_CSV_FILES))
def test_people_import_rejects_bad_file(admin_client, data):
    Person.objects.create(email="existing@example.com", name="Existing")
    upload = io.BytesIO(data)
    upload.name = "people.csv"

    response = admin_client.post(reverse("admin:accounts_person_import"), {"file": upload})

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["errors"] or response.context["form"].errors
    assert "<script>alert(" not in content
    assert list(Person.objects.values_list("email", flat=True)) == ["existing@example.com"]


def test_people_import_rejects_oversized_file(admin_client):
    row = b"someone@example.com,Someone,employee,active,\n"
    upload = io.BytesIO(CSV_HEADER + row * (PEOPLE_IMPORT_MAX_BYTES // len(row) + 1))
    upload.name = "people.csv"

    response = admin_client.post(reverse("admin:accounts_person_import"), {"file": upload})

    assert response.status_code == 200
    assert "split it into files" in str(response.context["form"].errors["file"])
    assert Person.objects.count() == 0


@pytest.fixture
def unlinked(make_integration, make_user):
    return make_user(make_integration(extended=True), "alice")


@pytest.mark.parametrize(
    "values",
    [
        {"person": "999999"},
        {"person": "abc"},
        {"person": SCRIPT},
        {"new_email": "not-an-email"},
        {"new_email": SCRIPT},
        {"new_email": "a" * 300 + "@example.com"},
        {"new_email": "eve@example.com", "new_name": "n" * 201},
        {},
    ],
)
def test_merge_rejects_bad_target(admin_client, unlinked, values):
    response = admin_client.post(
        reverse("admin:accounts_saasaccount_merge"), {"ids": str(unlinked.pk), "step": "merge", **values}
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert "<script>alert(" not in response.content.decode()
    assert MergeRecord.objects.count() == 0
    assert Person.objects.count() == 0
    unlinked.refresh_from_db()
    assert unlinked.person_id is None


@pytest.mark.parametrize("ids", ["", "abc", "-1", "999999", SCRIPT, ",,,", "1" * 5000, "²", "١"])
def test_merge_rejects_bad_ids(admin_client, unlinked, ids):
    person = Person.objects.create(email="carol@example.com")

    response = admin_client.post(
        reverse("admin:accounts_saasaccount_merge"), {"ids": ids, "step": "merge", "person": str(person.pk)}
    )

    assert response.status_code == 302
    assert MergeRecord.objects.count() == 0


@pytest.mark.parametrize("typed", ["", "ALICE", "alice.", "alic", "x" * 5000, SCRIPT, "アリス"])
def test_offboarding_confirmation_rejects_wrong_name(admin_client, unlinked, fake_aws, typed):
    offboarding = plan_offboarding(account=unlinked, mode=Offboarding.Mode.DELETE)
    fake_aws.reset_calls()

    response = admin_client.post(
        reverse("admin:accounts_saasaccount_offboard_confirm"),
        {"ids": str(offboarding.pk), "confirm": "yes", f"confirm_name_{offboarding.pk}": typed},
    )

    offboarding.refresh_from_db()
    content = response.content.decode()
    assert response.status_code == 200
    assert "Type alice exactly to confirm its deletion." in content
    assert "<script>alert(" not in content
    assert offboarding.status == Offboarding.Status.PLANNED
    assert fake_aws.calls.total == 0


@pytest.mark.parametrize("mode", ["", "destroy", SCRIPT])
def test_offboard_plan_rejects_bad_mode(admin_client, unlinked, mode):
    response = admin_client.post(
        reverse("admin:accounts_saasaccount_offboard_plan"), {"account": [str(unlinked.pk)], "mode": mode}
    )

    assert response.status_code == 302
    assert Offboarding.objects.count() == 0


@pytest.mark.parametrize("identifier", ["999999", "not-an-arn", SCRIPT])
def test_offboard_command_rejects_unknown_account(unlinked, identifier):
    with pytest.raises(CommandError):
        call_command("offboard", identifier, mode="delete", plan=True)

    assert Offboarding.objects.count() == 0


@pytest.mark.parametrize("user_name", ["", "a" * 65, SCRIPT, "名前", "alice bob", "alice/bob", "a\nb"])
def test_provisioning_rejects_bad_user_name(admin_client, make_integration, fake_aws, user_name):
    integration = make_integration(extended=True)
    person = Person.objects.create(email="dave@example.com", name="Dave")
    fake_aws.reset_calls()

    response = admin_client.post(
        reverse("admin:accounts_person_create_iam_user", args=[person.pk]),
        {"integration": str(integration.pk), "user_name": user_name, "confirm": "yes"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["user_name"]
    assert "<script>alert(" not in response.content.decode()
    assert Provisioning.objects.count() == 0
    assert SaaSAccount.objects.count() == 0
    assert fake_aws.calls.total == 0


def test_sync_command_rejects_unknown_integration(db):
    with pytest.raises(CommandError, match="No integration with id 999999 exists"):
        call_command("sync_integration", "999999")

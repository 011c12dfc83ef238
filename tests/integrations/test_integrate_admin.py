"""The setup page and the integration page in the admin, through the test client."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import SaaSAccount
from integrations.connectors.aws.policies import BASELINE_ACTIONS
from integrations.models import Integration, SyncRun
from integrations.services.connection import integrate_aws
from tests.integrations.conftest import CUSTOMER_ACCOUNT_ID, EXTERNAL_ID

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:integrations_integration_add")


def staff_client(client, *codenames: str):
    user = get_user_model().objects.create_user("staff", "staff@example.com", "staff-password", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def change_url(integration: Integration) -> str:
    return reverse("admin:integrations_integration_change", args=[integration.pk])


def action_url(name: str, integration: Integration) -> str:
    return reverse(f"admin:integrations_integration_{name}", args=[integration.pk])


def make_integration(role_arn: str, external_id: str = EXTERNAL_ID) -> Integration:
    return integrate_aws(name="", role_arn=role_arn, external_id=external_id, actor=None).integration


def test_setup_page_shows_filled_in_instructions(admin_client, fake_aws):
    response = admin_client.get(ADD_URL)

    assert response.status_code == 200
    external_id = admin_client.session["integrations:setup-external-id"]
    assert len(external_id) >= 32
    page = response.content.decode()
    assert "111111111111" in page
    assert f'value="{external_id}"' in page
    trust = json.loads(response.context["documents"].trust_policy)
    assert trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == external_id
    assert trust["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::111111111111:root"
    assert "iam:ListUsers" in page
    assert "iam:RemoveUserFromGroup" in page
    assert "AWS::IAM::Role" in page
    assert "resource &quot;aws_iam_role&quot; &quot;rollcall&quot;" in page
    assert page.count("rollcall-copy") >= 6
    assert 'value="Integrate"' in page


def test_setup_page_keeps_external_id_across_reloads(admin_client, fake_aws):
    admin_client.get(ADD_URL)
    first = admin_client.session["integrations:setup-external-id"]

    admin_client.get(ADD_URL)

    assert admin_client.session["integrations:setup-external-id"] == first


def test_setup_pages_generate_different_external_ids(client, admin_user, fake_aws):
    ids = set()
    for _attempt in range(3):
        client.force_login(admin_user)
        client.get(ADD_URL)
        ids.add(client.session["integrations:setup-external-id"])
        client.logout()

    assert len(ids) == 3


def test_cloudformation_download_is_filled_in(admin_client, fake_aws):
    admin_client.get(ADD_URL)
    external_id = admin_client.session["integrations:setup-external-id"]

    response = admin_client.get(reverse("admin:integrations_integration_setup_file", args=["cloudformation.yaml"]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="rollcall-role.yaml"'
    body = response.content.decode()
    assert external_id in body
    assert "arn:aws:iam::111111111111:root" in body
    assert "iam:RemoveUserFromGroup" not in body


def test_extended_terraform_download_has_offboarding_actions(admin_client, fake_aws):
    admin_client.get(ADD_URL)

    response = admin_client.get(reverse("admin:integrations_integration_setup_file", args=["terraform-extended.tf"]))

    assert response.status_code == 200
    assert "iam:RemoveUserFromGroup" in response.content.decode()


def test_unknown_setup_file_is_not_found(admin_client, fake_aws):
    admin_client.get(ADD_URL)

    response = admin_client.get(reverse("admin:integrations_integration_setup_file", args=["other.txt"]))

    assert response.status_code == 404


def test_setup_page_explains_missing_platform_credentials(admin_client, fake_aws, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    response = admin_client.get(ADD_URL)

    assert response.status_code == 200
    assert "Rollcall&#x27;s own AWS credentials are missing" in response.content.decode()


def test_setup_page_needs_add_permission(client, fake_aws):
    response = staff_client(client, "view_integration", "change_integration").get(ADD_URL)

    assert response.status_code == 403


def test_setup_page_with_add_permission(client, fake_aws):
    response = staff_client(client, "add_integration").get(ADD_URL)

    assert response.status_code == 200


def test_setup_page_requires_login(client, fake_aws):
    response = client.get(ADD_URL)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    ("role_arn", "message"),
    [
        ("RollcallAccess", "This is not an ARN."),
        ("arn:aws-xx:iam::123456789012:role/Rollcall", "The partition “aws-xx” is not supported"),
        ("arn:aws:s3:::bucket/key/a/b", "This ARN belongs to the service “s3”"),
        ("arn:aws:iam::12345:role/Rollcall", "The AWS account ID “12345” is invalid"),
        ("arn:aws:iam::123456789012:user/alice", "This ARN names “user”, not an IAM role"),
        ("arn:aws:iam::123456789012:role/bad name", "The role name “bad name” is invalid"),
        ("arn:aws:iam:us-east-1:123456789012:role/Rollcall", "An IAM role ARN has no region"),
    ],
)
def test_invalid_role_arn_is_explained(admin_client, fake_aws, role_arn, message):
    response = admin_client.post(ADD_URL, {"name": "", "role_arn": role_arn, "external_id": EXTERNAL_ID})

    assert response.status_code == 200
    assert message in response.context["form"].errors["role_arn"][0]
    assert Integration.objects.count() == 0


@pytest.mark.parametrize("role_arn", [
    "arn:aws-cn:iam::123456789012:role/Rollcall",
    "arn:aws-us-gov:iam::123456789012:role/path/to/Rollcall",
])  # fmt: skip
def test_other_partitions_are_accepted(admin_client, fake_aws, role_arn):
    response = admin_client.post(ADD_URL, {"name": "", "role_arn": role_arn, "external_id": EXTERNAL_ID})

    assert response.status_code == 302
    assert Integration.objects.get().role_arn == role_arn


@pytest.mark.parametrize(
    ("external_id", "message"),
    [
        ("x", "The external ID has 1 characters; AWS accepts 2 to 1224."),
        ("x" * 1225, "Ensure this value has at most 1224 characters"),
        ("has space and ümlaut", "contains characters that AWS does not accept ( ü)"),
    ],
)
def test_invalid_external_id_is_explained(admin_client, fake_aws, external_id, message):
    response = admin_client.post(
        ADD_URL,
        {"name": "", "role_arn": "arn:aws:iam::123456789012:role/Rollcall", "external_id": external_id},
    )

    assert response.status_code == 200
    assert message in response.context["form"].errors["external_id"][0]
    assert Integration.objects.count() == 0


def test_short_external_id_is_only_a_warning(admin_client, customer_role, fake_aws):
    short_id = "short-id-123"
    role_arn = fake_aws.create_customer_role(account_id=CUSTOMER_ACCOUNT_ID, role_name="ShortId", external_id=short_id)

    response = admin_client.post(ADD_URL, {"name": "", "role_arn": role_arn, "external_id": short_id}, follow=True)

    page = response.content.decode()
    assert Integration.objects.get().status == Integration.Status.CONNECTED
    assert "The external ID has only 12 characters" in page


def test_same_role_twice_is_rejected(admin_client, customer_role):
    make_integration(customer_role)

    response = admin_client.post(
        ADD_URL, {"name": "", "role_arn": customer_role.replace("RollcallAccess", "rollcallaccess"),
                  "external_id": "a-different-external-id-0123456789abcdef"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "This role is already integrated as “AWS 222222222222”" in response.context["form"].errors["role_arn"][0]
    assert Integration.objects.count() == 1


def test_integrate_lands_on_status_tab(admin_client, customer_role):
    response = admin_client.post(ADD_URL, {"name": "Production", "role_arn": customer_role, "external_id": EXTERNAL_ID})

    integration = Integration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(integration) + "#status"
    assert integration.name == "Production"
    assert integration.status == Integration.Status.CONNECTED
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.INTEGRATE
    assert "integrations:setup-external-id" not in admin_client.session


def test_failed_integrate_is_saved_and_explained(admin_client, customer_role):
    response = admin_client.post(
        ADD_URL,
        {"name": "", "role_arn": customer_role, "external_id": "not-the-external-id-of-this-role-000"},
        follow=True,
    )

    integration = Integration.objects.get()
    page = response.content.decode()
    assert integration.status == Integration.Status.FAILED
    assert 'id="last-error-fix"' in page
    assert "require exactly the external ID shown in Settings" in page
    assert "Failed" in page
    assert SyncRun.objects.count() == 0


def test_status_tab_shows_checks_and_runs(admin_client, customer_role, django_assert_max_num_queries):
    integration = make_integration(customer_role)
    SyncRun.objects.update(
        status=SyncRun.Status.PARTIAL,
        seen_count=7,
        aws_calls=42,
        warnings=[{"code": "AccessDenied", "message": "Could not read tags", "action": "iam:ListUserTags"}],
    )

    with django_assert_max_num_queries(12):
        response = admin_client.get(change_url(integration))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Assumed the role with the external ID." in page
    assert "Contact information" in page
    assert "Partial" in page
    assert "Could not call iam:ListUserTags (AccessDenied), so the accounts lack what it returns." in page
    assert 'id="retry-button"' in page
    assert 'id="disable-button"' in page


def test_accounts_tab_lists_accounts(admin_client, customer_role):
    integration = make_integration(customer_role)
    SaaSAccount.objects.create(
        integration=integration,
        kind="iam_user",
        provider_id="AIDAEXAMPLE1",
        name="alice",
        arn="arn:aws:iam::x",
    )

    response = admin_client.get(change_url(integration))

    page = response.content.decode()
    assert "alice" in page
    assert f"?integration__id__exact={integration.pk}" in page
    assert "Show the 1 account of this integration" in page


def test_view_permission_shows_page_without_actions(client, customer_role):
    integration = make_integration(customer_role)

    response = staff_client(client, "view_integration").get(change_url(integration))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="retry-button"' not in page
    assert "Save and check the connection" not in page


def test_change_page_needs_view_permission(client, customer_role):
    integration = make_integration(customer_role)

    response = staff_client(client, "add_integration").get(change_url(integration))

    assert response.status_code == 403


@pytest.mark.parametrize("action", ["retry", "sync", "disable", "enable"])
def test_actions_need_change_permission(client, customer_role, action):
    integration = make_integration(customer_role)

    response = staff_client(client, "view_integration").post(action_url(action, integration))

    assert response.status_code == 403


def test_settings_need_change_permission(client, customer_role):
    integration = make_integration(customer_role)

    response = staff_client(client, "view_integration").post(
        change_url(integration), {"name": "x", "role_arn": customer_role, "external_id": EXTERNAL_ID}
    )

    assert response.status_code == 403
    assert Integration.objects.get().name == "AWS 222222222222"


def test_actions_reject_get(admin_client, customer_role):
    integration = make_integration(customer_role)

    response = admin_client.get(action_url("retry", integration))

    assert response.status_code == 405


def test_settings_fix_connects(admin_client, customer_role):
    integration = make_integration(customer_role, external_id="not-the-external-id-of-this-role-000")

    response = admin_client.post(
        change_url(integration), {"name": "Fixed", "role_arn": customer_role, "external_id": EXTERNAL_ID}
    )

    integration.refresh_from_db()
    assert response.status_code == 302
    assert integration.status == Integration.Status.CONNECTED
    assert integration.name == "Fixed"
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.RETRY


def test_settings_errors_reopen_settings_tab(admin_client, customer_role):
    integration = make_integration(customer_role)

    response = admin_client.post(
        change_url(integration), {"name": "", "role_arn": "not-an-arn", "external_id": EXTERNAL_ID}
    )

    assert response.status_code == 200
    assert response.context["active_tab"] == "settings"
    assert "This is not an ARN." in response.content.decode()
    assert Integration.objects.get().role_arn == customer_role


def test_double_retry_queues_one_sync(admin_client, customer_role):
    integration = make_integration(customer_role, external_id="not-the-external-id-of-this-role-000")
    Integration.objects.filter(pk=integration.pk).update(external_id=EXTERNAL_ID)

    first = admin_client.post(action_url("retry", integration), follow=True)
    second = admin_client.post(action_url("retry", integration), follow=True)

    assert SyncRun.objects.count() == 1
    assert "is queued" in first.content.decode()
    assert "is already queued" in second.content.decode()


def test_sync_now_and_disable_enable(admin_client, customer_role):
    integration = make_integration(customer_role)
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)

    admin_client.post(action_url("sync", integration))
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.MANUAL).count() == 1
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)

    admin_client.post(action_url("disable", integration))
    assert Integration.objects.get().status == Integration.Status.DISABLED
    refused = admin_client.post(action_url("sync", integration), follow=True)
    assert "The integration is disabled." in refused.content.decode()

    admin_client.post(action_url("enable", integration))
    assert Integration.objects.get().status == Integration.Status.CONNECTED


def test_progress_reports_running_run(admin_client, customer_role):
    integration = make_integration(customer_role)
    SyncRun.objects.update(status=SyncRun.Status.RUNNING, progress_done=3, progress_total=10)

    response = admin_client.get(action_url("progress", integration))

    assert response.status_code == 200
    run = response.json()["run"]
    assert run["status"] == "running"
    assert run["active"] is True
    assert (run["done"], run["total"]) == (3, 10)


def test_progress_needs_view_permission(client, customer_role):
    integration = make_integration(customer_role)

    response = staff_client(client, "add_integration").get(action_url("progress", integration))

    assert response.status_code == 403


def test_running_sync_shows_progress_bar(admin_client, customer_role):
    integration = make_integration(customer_role)
    SyncRun.objects.update(status=SyncRun.Status.RUNNING, progress_done=3, progress_total=10)

    page = admin_client.get(change_url(integration)).content.decode()

    assert 'id="sync-progress-bar"' in page
    assert action_url("progress", integration) in page


def test_setup_files_use_the_role_partition(admin_client, fake_aws):
    integration = make_integration("arn:aws-cn:iam::123456789012:role/RollcallChina")

    response = admin_client.get(
        reverse("admin:integrations_integration_integration_setup_file", args=[integration.pk, "terraform.tf"])
    )

    body = response.content.decode()
    assert "arn:aws-cn:iam::111111111111:root" in body
    assert '"RollcallChina"' in body
    assert EXTERNAL_ID in body


def test_status_tab_lists_missing_permissions(admin_client, fake_aws):
    fake_aws.create_account(CUSTOMER_ACCOUNT_ID)
    actions = [action for action in BASELINE_ACTIONS if action != "iam:ListUserTags"]
    role_arn = fake_aws.create_customer_role(account_id=CUSTOMER_ACCOUNT_ID, external_id=EXTERNAL_ID, actions=actions)
    integration = make_integration(role_arn)

    page = admin_client.get(change_url(integration)).content.decode()

    assert '<td id="missing-actions">iam:ListUserTags</td>' in page
    assert "Add the missing actions to the role&#x27;s permission policy" in page

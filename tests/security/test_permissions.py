"""Every custom admin view and action, posted by a user of each role: allowed, or refused with nothing changed.

Allowed means the view ran (any answer but 403); the tests of each feature check what it did.
Refused means 403 from a view, or for an admin action, the changelist without the action's
result, and in both cases no row in the database changed.
"""

import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import MergeRecord, Offboarding, Person, Provisioning, SaaSAccount
from accounts.offboarding.services import plan_offboarding
from audit.models import AuditEvent
from audit.roles import ADMINISTRATOR, OPERATOR, ROLE_NAMES, VIEWER, role_permissions
from integrations.models import Integration, SyncRun
from tests.security.conftest import NO_GROUP, ROLES

EVERYONE = {VIEWER, OPERATOR, ADMINISTRATOR}
OPERATORS = {OPERATOR, ADMINISTRATOR}
ADMINISTRATORS = {ADMINISTRATOR}


@pytest.fixture
def world(make_integration, make_user):
    """One integration with an unlinked IAM user, a person, and a planned offboarding of a second user."""
    integration = make_integration(extended=True)
    account = make_user(integration, "alice")
    target = make_user(integration, "bob")
    person = Person.objects.create(email="carol@example.com", name="Carol")
    offboarding = plan_offboarding(account=target, mode=Offboarding.Mode.DELETE, actor=None)
    return {
        "integration": integration,
        "account": account,
        "target": target,
        "person": person,
        "offboarding": offboarding,
    }


def snapshot() -> dict:
    """Return a summary of every row a view could change."""
    return {
        "audit": AuditEvent.objects.count(),
        "integrations": list(Integration.objects.values_list("pk", "status", "name", "role_arn").order_by("pk")),
        "runs": list(SyncRun.objects.values_list("pk", "status").order_by("pk")),
        "people": list(Person.objects.values_list("pk", "email", "name", "status").order_by("pk")),
        "accounts": list(SaaSAccount.objects.values_list("pk", "person_id", "status").order_by("pk")),
        "merges": MergeRecord.objects.count(),
        "offboardings": list(Offboarding.objects.values_list("pk", "status").order_by("pk")),
        "provisionings": Provisioning.objects.count(),
    }


def _integration_url(name, world):
    return reverse(f"admin:integrations_integration_{name}", args=[world["integration"].pk])


def _action(url, action, pks):
    return lambda client, world: client.post(
        url, {"action": action, "_selected_action": [str(pk) for pk in pks(world)]}
    )


ACCOUNTS = reverse("admin:accounts_saasaccount_changelist")
PEOPLE = reverse("admin:accounts_person_changelist")
AUDIT = reverse("admin:audit_auditevent_changelist")

# (name, request, roles allowed, is an admin action)
VIEWS = [
    (
        "integrate",
        lambda c, w: c.post(
            reverse("admin:integrations_integration_add"), {"name": "", "role_arn": "", "external_id": ""}
        ),
        ADMINISTRATORS,
    ),
    (
        "edit settings",
        lambda c, w: c.post(_integration_url("change", w), {"name": "Renamed", "role_arn": "", "external_id": ""}),
        ADMINISTRATORS,
    ),
    ("retry", lambda c, w: c.post(_integration_url("retry", w)), OPERATORS),
    ("sync now", lambda c, w: c.post(_integration_url("sync", w)), OPERATORS),
    ("disable", lambda c, w: c.post(_integration_url("disable", w)), ADMINISTRATORS),
    ("enable", lambda c, w: c.post(_integration_url("enable", w)), ADMINISTRATORS),
    (
        "setup file",
        lambda c, w: c.get(reverse("admin:integrations_integration_setup_file", args=["trust-policy.json"])),
        ADMINISTRATORS,
    ),
    (
        "import people",
        lambda c, w: c.post(
            reverse("admin:accounts_person_import"),
            {"file": io.BytesIO(b"email,name,kind,status,left_on\ndan@example.com,Dan,employee,active,\n")},
        ),
        OPERATORS,
    ),
    (
        "merge",
        lambda c, w: c.post(
            reverse("admin:accounts_saasaccount_merge"),
            {"ids": str(w["account"].pk), "step": "merge", "person": str(w["person"].pk)},
        ),
        OPERATORS,
    ),
    (
        "unmerge",
        lambda c, w: c.post(
            reverse("admin:accounts_saasaccount_unmerge"), {"ids": str(w["account"].pk), "confirm": "yes"}
        ),
        OPERATORS,
    ),
    (
        "accept suggestion",
        lambda c, w: c.post(
            reverse("admin:accounts_saasaccount_suggestions"), {"accept_one": f"{w['account'].pk}:{w['person'].pk}"}
        ),
        OPERATORS,
    ),
    (
        "offboard plan",
        lambda c, w: c.post(reverse("admin:accounts_saasaccount_offboard_plan"), {"account": [str(w["account"].pk)]}),
        ADMINISTRATORS,
    ),
    (
        "offboard confirm",
        lambda c, w: c.post(
            reverse("admin:accounts_saasaccount_offboard_confirm"),
            {"ids": str(w["offboarding"].pk), "confirm": "yes", f"confirm_name_{w['offboarding'].pk}": "bob"},
        ),
        ADMINISTRATORS,
    ),
    (
        "offboarding cancel",
        lambda c, w: c.post(reverse("admin:accounts_offboarding_cancel", args=[w["offboarding"].pk])),
        ADMINISTRATORS,
    ),
    (
        "offboarding retry",
        lambda c, w: c.post(reverse("admin:accounts_offboarding_retry", args=[w["offboarding"].pk])),
        ADMINISTRATORS,
    ),
    (
        "create IAM user",
        lambda c, w: c.post(
            reverse("admin:accounts_person_create_iam_user", args=[w["person"].pk]),
            {"integration": str(w["integration"].pk), "user_name": "carol", "confirm": "yes"},
        ),
        ADMINISTRATORS,
    ),
]

ACTIONS = [
    ("export accounts CSV", _action(ACCOUNTS, "export_csv", lambda w: [w["account"].pk]), EVERYONE),
    ("export accounts JSON", _action(ACCOUNTS, "export_json", lambda w: [w["account"].pk]), EVERYONE),
    ("merge action", _action(ACCOUNTS, "merge_into_person", lambda w: [w["account"].pk]), OPERATORS),
    ("unmerge action", _action(ACCOUNTS, "unmerge", lambda w: [w["account"].pk]), OPERATORS),
    ("offboard action", _action(ACCOUNTS, "offboard_accounts", lambda w: [w["account"].pk]), ADMINISTRATORS),
    ("offboard all action", _action(PEOPLE, "offboard_all_accounts", lambda w: [w["person"].pk]), ADMINISTRATORS),
    (
        "export audit CSV",
        _action(AUDIT, "export_csv", lambda w: list(AuditEvent.objects.values_list("pk", flat=True))),
        EVERYONE,
    ),
]


def _cases(table):
    return [
        pytest.param(entry[1], role, role in entry[2], id=f"{entry[0]}-{role}") for entry in table for role in ROLES
    ]


@pytest.mark.parametrize(("send", "role", "allowed"), _cases(VIEWS))
def test_custom_view_checks_permission(role_client, world, send, role, allowed):
    client = role_client(role)
    before = snapshot()

    response = send(client, world)

    if allowed:
        assert response.status_code != 403
    else:
        assert response.status_code == 403
        assert snapshot() == before


@pytest.mark.parametrize(("send", "role", "allowed"), _cases(ACTIONS))
def test_admin_action_checks_permission(role_client, world, send, role, allowed):
    client = role_client(role)
    before = snapshot()

    response = send(client, world)

    if allowed:
        assert response.status_code in (200, 302)
        assert response.get("Content-Disposition", "").startswith("attachment") or response.status_code == 302
    else:
        # Django answers an action the user may not run like an unknown one: it shows the
        # changelist again (directly or by a redirect to itself), or answers 403 when the user
        # may not even see the changelist.
        assert response.status_code in (200, 302, 403)
        assert "Content-Disposition" not in response
        if response.status_code == 302:
            assert response.url == response.request["PATH_INFO"]
        assert snapshot() == before


def test_groups_match_roles_module(db):
    for role in ROLE_NAMES:
        group = Group.objects.get(name=role)
        assert set(group.permissions.all()) == set(role_permissions(role))


def test_viewer_sees_but_changes_nothing(db):
    codenames = set(Group.objects.get(name=VIEWER).permissions.values_list("codename", flat=True))
    assert {"view_integration", "view_saasaccount", "view_person", "view_auditevent", "view_offboarding"} <= codenames
    assert not {name for name in codenames if name.startswith(("add_", "change_", "delete_"))}


def test_each_role_has_expected_extras(db):
    def codenames(role):
        return set(Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename"))

    assert ("integrations", "sync_integration") in codenames(OPERATOR)
    assert ("accounts", "offboard_account") not in codenames(OPERATOR)
    assert ("accounts", "offboard_account") in codenames(ADMINISTRATOR)
    assert ("accounts", "provision_account") in codenames(ADMINISTRATOR)
    assert ("integrations", "change_integration") in codenames(ADMINISTRATOR)
    assert ("integrations", "sync_integration") not in codenames(VIEWER)


def test_group_permissions_resynced_after_migrate(db):
    from django.core.management import call_command

    viewer = Group.objects.get(name=VIEWER)
    viewer.permissions.clear()
    viewer.permissions.add(*role_permissions(ADMINISTRATOR))

    call_command("migrate", verbosity=0)

    assert set(viewer.permissions.all()) == set(role_permissions(VIEWER))


def test_no_group_staff_sees_nothing(role_client, world):
    client = role_client(NO_GROUP)

    assert client.get(ACCOUNTS).status_code == 403
    assert client.get(_integration_url("change", world)).status_code == 403

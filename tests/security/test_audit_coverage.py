"""Each change made through the admin writes audit events naming the actor and the change."""

import io

import pytest
from django.urls import reverse

from accounts.models import Offboarding, Person
from accounts.offboarding.services import plan_offboarding
from audit.models import AuditEvent
from integrations.models import Integration


def new_events(before: int) -> list[tuple[str, str]]:
    return list(AuditEvent.objects.order_by("id").values_list("action", "actor__username")[before:])


@pytest.fixture
def world(make_integration, make_user):
    integration = make_integration(extended=True)
    account = make_user(integration, "alice")
    person = Person.objects.create(email="carol@example.com", name="Carol")
    return {"integration": integration, "account": account, "person": person}


CASES = {
    "person added": (
        lambda c, w: c.post(
            reverse("admin:accounts_person_add"),
            {
                "email": "dan@example.com",
                "name": "Dan",
                "kind": "employee",
                "status": "active",
                "accounts-TOTAL_FORMS": "0",
                "accounts-INITIAL_FORMS": "0",
            },
        ),
        ["person.created"],
    ),
    "person deleted": (
        lambda c, w: c.post(reverse("admin:accounts_person_delete", args=[w["person"].pk]), {"post": "yes"}),
        ["person.deleted"],
    ),
    "people imported": (
        lambda c, w: c.post(
            reverse("admin:accounts_person_import"),
            {"file": io.BytesIO(b"email,name\nerin@example.com,Erin\nfrank@example.com,Frank\n")},
        ),
        ["person.created", "person.created"],
    ),
    "integration disabled": (
        lambda c, w: c.post(reverse("admin:integrations_integration_disable", args=[w["integration"].pk])),
        ["integration.disabled"],
    ),
    "merged": (
        lambda c, w: c.post(
            reverse("admin:accounts_saasaccount_merge"),
            {"ids": str(w["account"].pk), "step": "merge", "person": str(w["person"].pk)},
        ),
        ["account.merged"],
    ),
    "offboarding planned": (
        lambda c, w: c.post(reverse("admin:accounts_saasaccount_offboard_plan"), {"account": [str(w["account"].pk)]}),
        ["offboarding.plan"],
    ),
}


@pytest.mark.parametrize(("send", "expected"), list(CASES.values()), ids=list(CASES))
def test_admin_change_writes_events(admin_client, admin_user, world, send, expected):
    before = AuditEvent.objects.count()

    response = send(admin_client, world)

    assert response.status_code == 302
    events = new_events(before)
    assert [action for action, _actor in events] == expected
    assert {actor for _action, actor in events} == {admin_user.username}


def test_integration_deletion_is_audited(admin_client, admin_user, make_integration):
    integration = make_integration()
    before = AuditEvent.objects.count()

    response = admin_client.post(
        reverse("admin:integrations_integration_delete", args=[integration.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Integration.objects.filter(pk=integration.pk).exists()
    event = AuditEvent.objects.get(action="integration.deleted")
    assert AuditEvent.objects.count() == before + 1
    assert event.actor == admin_user
    assert event.before["role_arn"] == integration.role_arn
    assert integration.external_id not in str(event.before)


def test_person_with_accounts_is_kept(admin_client, world):
    account = world["account"]
    account.person = world["person"]
    account.save(update_fields=["person"])
    before = AuditEvent.objects.count()

    admin_client.post(reverse("admin:accounts_person_delete", args=[world["person"].pk]), {"post": "yes"})

    assert Person.objects.filter(pk=world["person"].pk).exists()
    assert AuditEvent.objects.count() == before


def test_offboarding_cancel_writes_one_event(admin_client, world):
    offboarding = plan_offboarding(account=world["account"], mode=Offboarding.Mode.DELETE)
    before = AuditEvent.objects.count()

    admin_client.post(reverse("admin:accounts_offboarding_cancel", args=[offboarding.pk]))

    assert [action for action, _actor in new_events(before)] == ["offboarding.cancel"]

"""The audit trail is append-only everywhere, and its list filters and exports events."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.urls import reverse

from accounts.models import Person
from audit.models import AuditEvent
from audit.roles import VIEWER
from audit.services import record_event

CHANGELIST = reverse("admin:audit_auditevent_changelist")


@pytest.fixture
def event(db, admin_user):
    person = Person.objects.create(email="ana@example.com", name="Ana")
    return record_event(
        action="person.save", target=person, actor=admin_user, before={"name": ""}, after={"name": "Ana Müller 佐藤"}
    )


def test_admin_add_page_refused(admin_client, event):
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:audit_auditevent_add"), {"action": "x"}).status_code == 403
    assert AuditEvent.objects.count() == 1


def test_admin_change_post_refused(admin_client, event):
    url = reverse("admin:audit_auditevent_change", args=[event.pk])

    response = admin_client.post(url, {"action": "tampered", "object_repr": "tampered"})

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.action == "person.save"


def test_admin_change_page_is_read_only(admin_client, event):
    response = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))

    assert response.status_code == 200
    assert 'name="action"' not in response.content.decode()


def test_admin_delete_refused(admin_client, event):
    response = admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admin_bulk_delete_action_absent(admin_client, event):
    response = admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [str(event.pk)]})

    assert response.status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_model_save_of_existing_refused(event):
    event.action = "tampered"

    with pytest.raises(PermissionError):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).action == "person.save"


def test_model_delete_refused(event):
    with pytest.raises(PermissionError):
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")

    assert AuditEvent.objects.get(pk=event.pk).action == "person.save"


def test_queryset_delete_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.count() == 1


def test_bulk_update_refused(event):
    event.action = "tampered"

    with pytest.raises(PermissionError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["action"])

    assert AuditEvent.objects.get(pk=event.pk).action == "person.save"


def test_deleting_actor_refused(event, admin_user):
    with pytest.raises(ProtectedError):
        admin_user.delete()

    assert AuditEvent.objects.get(pk=event.pk).actor_id == admin_user.pk


def test_csv_export_has_bom_and_unicode(admin_client, event):
    response = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [str(event.pk)]})

    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.startswith("id,occurred_at,actor,job,action,object_type")
    assert "person.save" in row
    assert "Ana Müller 佐藤" in row


def test_viewer_may_export(client, event):
    viewer = get_user_model().objects.create_user(username="viewer", password="x", is_staff=True)
    viewer.groups.add(viewer.groups.model.objects.get(name=VIEWER))
    client.force_login(viewer)

    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [str(event.pk)]})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="audit-events.csv"'


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=person.save", 1),
        ("action=other", 0),
        ("object_type=accounts.person", 1),
        ("object_type=integrations.integration", 0),
    ],
)
def test_changelist_filters(admin_client, event, query, expected):
    response = admin_client.get(f"{CHANGELIST}?{query}")

    assert response.status_code == 200
    assert response.context["cl"].result_count == expected


def test_changelist_filters_by_actor_and_date(admin_client, event, admin_user):
    today = event.occurred_at.date()

    by_actor = admin_client.get(f"{CHANGELIST}?actor__id__exact={admin_user.pk}")
    by_date = admin_client.get(f"{CHANGELIST}?occurred_at__year={today.year}&occurred_at__month={today.month}")
    other_year = admin_client.get(f"{CHANGELIST}?occurred_at__year={today.year - 1}")

    assert by_actor.context["cl"].result_count == 1
    assert by_date.context["cl"].result_count == 1
    assert other_year.context["cl"].result_count == 0


def test_base_manager_delete_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent._base_manager.all().delete()

    assert AuditEvent.objects.count() == 1

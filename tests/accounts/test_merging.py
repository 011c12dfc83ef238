import pytest
from django.db import IntegrityError
from django.urls import reverse

from accounts.models import MergeRecord, Person, SaaSAccount
from accounts.services.merging import merge_accounts, unmerge_account
from accounts.services.people import save_person
from audit.models import AuditEvent
from tests.accounts.factories import make_account, make_integration, make_key, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return make_integration()


def test_merge_links_account_to_person(integration, staff):
    person = make_person("taro@example.com", name="Taro", kind="guest")
    account = make_account(integration, "taro")

    merge_accounts(accounts=[account], person=person, actor=staff)

    account.refresh_from_db()
    assert account.person == person
    assert account.email == "taro@example.com"
    assert account.email_source == "merge"
    assert account.link_decision == "merged"
    assert account.user_type == "guest"
    assert account.user_type_reason == "person"
    record = MergeRecord.objects.get(account=account)
    assert record.previous_user_type == "unknown"
    assert record.actor == staff
    event = AuditEvent.objects.get(action="account.merged")
    assert event.actor == staff
    assert event.before["user_type"] == "unknown"
    assert event.after["person"] == person.pk


def test_merge_keeps_previous_person(integration, staff):
    old = make_person("old@example.com")
    new = make_person("new@example.com")
    account = make_account(integration, "shared", person=old, email=old.email, email_source="tag")

    merge_accounts(accounts=[account], person=new, actor=staff)

    record = MergeRecord.objects.get(account=account)
    assert record.previous_person == old
    assert record.previous_email == "old@example.com"
    assert record.previous_email_source == "tag"


def test_unmerge_restores_tag_email_and_type(integration, staff):
    person = make_person("taro@example.com")
    account = make_account(integration, "taro", tags=[{"Key": "Email", "Value": " Tagged@Example.com "}])
    merge_accounts(accounts=[account], person=person, actor=staff)

    unmerge_account(account=account, actor=staff)

    account.refresh_from_db()
    assert account.person is None
    assert account.email == "tagged@example.com"
    assert account.email_source == "tag"
    assert account.link_decision == "unmerged"
    assert account.user_type == "unknown"
    assert account.user_type_reason == "email_without_person"
    record = MergeRecord.objects.get(account=account)
    assert record.undone_at is not None
    assert record.undone_by == staff
    assert AuditEvent.objects.filter(action="account.unmerged", object_id=str(account.pk)).exists()


def test_unmerge_restores_email_shaped_user_name(integration, staff):
    person = make_person("someone@example.com")
    account = make_account(integration, "Hanako@Example.com")
    merge_accounts(accounts=[account], person=person, actor=staff)

    unmerge_account(account=account, actor=staff)

    account.refresh_from_db()
    assert account.email == "hanako@example.com"
    assert account.email_source == "username"


def test_unmerge_recomputes_system_type(integration, staff):
    person = make_person("taro@example.com")
    account = make_account(integration, "deploy")
    make_key(account, "AKIAEXAMPLE000000001")
    merge_accounts(accounts=[account], person=person, actor=staff)

    unmerge_account(account=account, actor=staff)

    account.refresh_from_db()
    assert account.email == ""
    assert account.email_source == ""
    assert account.user_type == "system"
    assert account.user_type_reason == "keys_without_console"


@pytest.fixture
def unknown_accounts(integration):
    return [make_account(integration, "taro"), make_account(integration, "t.yamada")]


def test_merge_wizard_with_existing_person(staff_client, unknown_accounts):
    person = make_person("taro@example.com", name="Taro Yamada")
    url = reverse("admin:accounts_saasaccount_merge")
    ids = ",".join(str(account.pk) for account in unknown_accounts)

    choose = staff_client.get(url, {"ids": ids})
    review = staff_client.post(url, {"ids": ids, "step": "review", "person": person.pk})
    done = staff_client.post(url, {"ids": ids, "step": "merge", "person": person.pk}, follow=True)

    assert choose.status_code == 200
    assert "autocomplete" in choose.content.decode()
    plan = review.content.decode()
    assert "→ taro@example.com" in plan
    assert "rc-type-employee" in plan
    assert SaaSAccount.objects.filter(person=person).count() == 2
    assert "Merged 2 account(s)" in done.content.decode()


def test_merge_wizard_creates_new_person(staff_client, unknown_accounts):
    url = reverse("admin:accounts_saasaccount_merge")
    ids = str(unknown_accounts[0].pk)
    data = {"ids": ids, "new_email": "New.Person@example.com", "new_name": "New Person", "new_kind": "guest"}

    review = staff_client.post(url, {**data, "step": "review"})
    assert Person.objects.count() == 0
    staff_client.post(url, {**data, "step": "merge"})

    assert "A new person new.person@example.com" in review.content.decode()
    person = Person.objects.get(email="new.person@example.com")
    assert person.kind == "guest"
    assert unknown_accounts[0].__class__.objects.get(pk=unknown_accounts[0].pk).user_type == "guest"


def test_merge_wizard_rejects_missing_target(staff_client, unknown_accounts):
    url = reverse("admin:accounts_saasaccount_merge")

    response = staff_client.post(url, {"ids": str(unknown_accounts[0].pk), "step": "merge"})

    assert "Choose an existing person or enter the email of a new person." in response.content.decode()
    assert MergeRecord.objects.count() == 0


def test_relinking_needs_explicit_confirmation(staff_client, integration):
    old = make_person("old@example.com")
    new = make_person("new@example.com")
    account = make_account(integration, "shared", person=old, email=old.email, user_type="employee")
    url = reverse("admin:accounts_saasaccount_merge")
    data = {"ids": str(account.pk), "step": "merge", "person": new.pk}

    refused = staff_client.post(url, data)
    account.refresh_from_db()
    assert account.person == old
    assert "linked to another person" in refused.content.decode()
    assert "moves from another person" in refused.content.decode()

    staff_client.post(url, {**data, "confirm_relink": "yes"})
    account.refresh_from_db()
    assert account.person == new


def test_merge_action_redirects_to_wizard(staff_client, unknown_accounts):
    response = staff_client.post(
        reverse("admin:accounts_saasaccount_changelist"),
        {"action": "merge_into_person", "_selected_action": [account.pk for account in unknown_accounts]},
    )

    assert response.status_code == 302
    assert reverse("admin:accounts_saasaccount_merge") in response["Location"]


def test_unmerge_page_shows_plan_then_unmerges(staff_client, integration, staff):
    person = make_person("taro@example.com")
    account = make_account(integration, "taro")
    merge_accounts(accounts=[account], person=person, actor=staff)
    url = reverse("admin:accounts_saasaccount_unmerge")

    plan = staff_client.get(url, {"ids": account.pk})
    account.refresh_from_db()
    assert account.person == person
    staff_client.post(url, {"ids": account.pk, "confirm": "yes"})

    assert "taro@example.com → -" in plan.content.decode()
    account.refresh_from_db()
    assert account.person is None
    assert account.link_decision == "unmerged"


def test_failed_merge_creates_no_person(staff_client, unknown_accounts, reject_inserts):
    url = reverse("admin:accounts_saasaccount_merge")
    ids = ",".join(str(account.pk) for account in unknown_accounts[:2])
    data = {"ids": ids, "new_email": "new.person@example.com", "new_name": "New Person", "new_kind": "employee"}
    reject_inserts(MergeRecord, "account_id", unknown_accounts[1].pk)

    with pytest.raises(IntegrityError):
        staff_client.post(url, {**data, "step": "merge"})

    assert not Person.objects.exists()
    assert not MergeRecord.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["person.created", "account.merged"]).exists()


def test_failed_unmerge_changes_no_account(staff_client, integration, staff, reject_inserts):
    person = make_person("taro@example.com")
    first = make_account(integration, "taro")
    second = make_account(integration, "taro-admin")
    merge_accounts(accounts=[first, second], person=person, actor=staff)
    # The view unmerges in name order, so the second account's audit event fails after the first's.
    reject_inserts(AuditEvent, "object_id", str(second.pk))

    with pytest.raises(IntegrityError):
        staff_client.post(
            reverse("admin:accounts_saasaccount_unmerge"), {"ids": f"{first.pk},{second.pk}", "confirm": "yes"}
        )

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.person == person
    assert second.person == person
    assert MergeRecord.objects.filter(undone_at__isnull=True).count() == 2
    assert not AuditEvent.objects.filter(action="account.unmerged").exists()


def test_person_edit_reaches_merged_accounts(integration, staff):
    person = make_person("taro@example.com")
    account = make_account(integration, "taro")
    pinned = make_account(integration, "taro-admin")
    merge_accounts(accounts=[account, pinned], person=person, actor=staff)
    SaaSAccount.objects.filter(pk=pinned.pk).update(user_type="system", user_type_set_by=staff)

    person.email = "taro.yamada@example.com"
    person.kind = "guest"
    save_person(person=person, actor=staff)

    account.refresh_from_db()
    pinned.refresh_from_db()
    assert account.email == "taro.yamada@example.com"
    assert account.user_type == "guest"
    assert pinned.email == "taro.yamada@example.com"
    assert pinned.user_type == "system"
    event = AuditEvent.objects.get(action="account.updated", object_id=str(account.pk))
    assert event.before["email"] == "taro@example.com"
    assert event.after["email"] == "taro.yamada@example.com"
    assert event.after["user_type"] == "guest"
    assert event.actor == staff


def test_merge_needs_change_permission(client, django_user_model, unknown_accounts):
    user = django_user_model.objects.create_user("viewer", password="a-long-test-password", is_staff=True)
    client.force_login(user)

    response = client.get(reverse("admin:accounts_saasaccount_merge"), {"ids": unknown_accounts[0].pk})

    assert response.status_code == 403

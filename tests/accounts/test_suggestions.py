import pytest
from django.db import IntegrityError
from django.urls import reverse

from accounts.models import MergeRecord, SaaSAccount
from accounts.services.suggestions import suggest_merges, unlinked_accounts
from tests.accounts.factories import make_account, make_integration, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return make_integration()


def evidence_codes(account_name: str) -> dict[str, list[str]]:
    """Map each candidate's email to its evidence codes for the named account."""
    for suggestion in suggest_merges(unlinked_accounts()):
        if suggestion.account.name == account_name:
            return {
                candidate.person.email: [code for code, _value in candidate.evidence]
                for candidate in suggestion.candidates
            }
    return {}


def test_email_tag_evidence(integration):
    make_person("taro@example.com")
    make_account(integration, "deploy-taro", tags=[{"Key": "EMAIL", "Value": "Taro@example.com"}])

    assert evidence_codes("deploy-taro")["taro@example.com"] == ["email_tag"]


def test_email_shaped_user_name_evidence(integration):
    make_person("hanako@example.com")
    make_account(integration, "Hanako@Example.com")

    assert "email_user_name" in evidence_codes("Hanako@Example.com")["hanako@example.com"]


def test_local_part_evidence(integration):
    make_person("t.yamada@example.com")
    make_account(integration, "t.yamada")

    assert "local_part" in evidence_codes("t.yamada")["t.yamada@example.com"]


def test_name_similarity_evidence(integration):
    make_person("ty@example.com", name="Taro Yamada")
    make_person("someone@example.com", name="Someone Else")
    make_account(integration, "taro_yamada")

    codes = evidence_codes("taro_yamada")
    assert codes == {"ty@example.com": ["name_similarity"]}


def test_no_candidate_no_suggestion(integration):
    make_person("taro@example.com", name="Taro")
    make_account(integration, "zz-unrelated")

    assert evidence_codes("zz-unrelated") == {}


def test_linked_and_unmerged_accounts_are_not_suggested(integration):
    person = make_person("taro@example.com")
    make_account(integration, "taro", person=person)
    make_account(integration, "taro@example.com", link_decision="unmerged")

    assert suggest_merges(unlinked_accounts()) == []


def test_accept_one_suggestion(staff_client, integration):
    person = make_person("taro@example.com", name="Taro")
    account = make_account(integration, "taro")
    url = reverse("admin:accounts_saasaccount_suggestions")

    page = staff_client.get(url).content.decode()
    staff_client.post(url, {"accept_one": f"{account.pk}:{person.pk}"})

    assert "The user name taro is the part of this person&#x27;s email before the @." in page
    account.refresh_from_db()
    assert account.person == person
    assert account.link_decision == "merged"


def test_accept_selected_suggestions(staff_client, integration):
    taro = make_person("taro@example.com")
    hanako = make_person("hanako@example.com")
    first = make_account(integration, "taro")
    second = make_account(integration, "hanako")
    url = reverse("admin:accounts_saasaccount_suggestions")

    staff_client.post(url, {"accept": [f"{first.pk}:{taro.pk}", f"{second.pk}:{hanako.pk}"]})

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.person == taro
    assert second.person == hanako


def test_failed_acceptance_merges_none(staff_client, integration, reject_inserts):
    taro = make_person("taro@example.com")
    hanako = make_person("hanako@example.com")
    first = make_account(integration, "taro")
    second = make_account(integration, "hanako")
    # Suggestions are merged in name order, so hanako's merge succeeds before taro's fails.
    reject_inserts(MergeRecord, "account_id", first.pk)

    with pytest.raises(IntegrityError):
        staff_client.post(
            reverse("admin:accounts_saasaccount_suggestions"),
            {"accept": [f"{first.pk}:{taro.pk}", f"{second.pk}:{hanako.pk}"]},
        )

    assert not SaaSAccount.objects.filter(person__isnull=False).exists()
    assert not MergeRecord.objects.exists()

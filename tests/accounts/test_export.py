import csv
import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import SaaSAccount
from accounts.services.export import FIELDS
from tests.accounts.factories import make_account, make_integration, make_key, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    production = make_integration("本番")
    staging = make_integration("Staging")
    person = make_person("taro@example.com", name="山田 太郎", status="left")
    used = timezone.now() - datetime.timedelta(days=2)
    taro = make_account(
        production,
        "山田",
        person=person,
        email=person.email,
        email_source="merge",
        user_type="employee",
        user_type_reason="person",
        user_type_reason_params={"person": str(person), "kind": "employee"},
        password_last_used=used,
        mfa_enabled=None,
        groups=["開発"],
        attached_policies=[],
        inline_policies=None,
        tags=[{"Key": "email", "Value": "taro@example.com"}],
    )
    make_key(taro, "AKIAEXPORT000000001", days_unused=2)
    make_account(staging, "ci-bot", user_type="system", user_type_reason="system_name", mfa_enabled=False)
    return production, staging


def test_json_export_has_every_key(accounts):
    production, _staging = accounts
    output = io.StringIO()

    call_command("export_accounts", "--format", "json", "--integration", str(production.pk), stdout=output)

    records = json.loads(output.getvalue())
    assert len(records) == 1
    record = records[0]
    assert list(record) == list(FIELDS)
    assert record["integration"] == "本番"
    assert record["kind"] == "iam_user"
    assert record["person_email"] == "taro@example.com"
    assert record["person_status"] == "left"
    assert record["retiree"] is True
    assert record["mfa_enabled"] is None
    assert record["groups"] == ["開発"]
    assert record["attached_policies"] == []
    assert record["inline_policies"] is None
    assert record["user_type_reason"] == "Linked to 山田 太郎 <taro@example.com>, who is recorded as employee."
    key = record["access_keys"][0]
    assert set(key) == {"access_key_id", "status", "created", "last_used"}
    assert key["access_key_id"] == "AKIAEXPORT000000001"
    assert datetime.datetime.fromisoformat(record["console_password_last_used"])


def test_json_export_of_unlinked_account(accounts):
    output = io.StringIO()

    call_command("export_accounts", "--format", "json", stdout=output)

    bot = next(record for record in json.loads(output.getvalue()) if record["name"] == "ci-bot")
    assert bot["person_email"] is None
    assert bot["retiree"] is False
    assert bot["access_keys"] == []
    assert bot["mfa_enabled"] is False


def test_csv_export_opens_in_excel(accounts, tmp_path):
    path = tmp_path / "accounts.csv"

    call_command("export_accounts", "--output", str(path))

    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == list(FIELDS)
    taro = next(row for row in rows if row["integration"] == "本番")
    assert taro["name"] == "山田"
    assert taro["retiree"] == "true"
    assert taro["mfa_enabled"] == ""
    assert json.loads(taro["groups"]) == ["開発"]
    assert json.loads(taro["access_keys"])[0]["access_key_id"] == "AKIAEXPORT000000001"


def test_export_rejects_unknown_integration(accounts):
    with pytest.raises(CommandError, match="Integration 999999 not found"):
        call_command("export_accounts", "--integration", "999999", stdout=io.StringIO())


def test_admin_export_actions(staff_client, accounts):
    url = reverse("admin:accounts_saasaccount_changelist")
    selected = list(SaaSAccount.objects.values_list("pk", flat=True))

    as_csv = staff_client.post(url, {"action": "export_csv", "_selected_action": selected})
    as_json = staff_client.post(url, {"action": "export_json", "_selected_action": selected})

    csv_text = b"".join(as_csv.streaming_content).decode("utf-8-sig")
    assert as_csv["Content-Disposition"] == 'attachment; filename="accounts.csv"'
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 2
    records = json.loads(b"".join(as_json.streaming_content))
    assert {record["name"] for record in records} == {"山田", "ci-bot"}


def test_export_query_count_is_constant(accounts, django_assert_num_queries):
    production, _staging = accounts
    person = make_person("many@example.com")
    for index in range(20):
        account = make_account(production, f"extra-{index}", person=person)
        make_key(account, f"AKIAEXTRA{index:011d}")

    with django_assert_num_queries(2):
        call_command("export_accounts", "--format", "json", stdout=io.StringIO())


def test_csv_export_neutralises_formula_names():
    integration = make_integration("Production")
    make_account(integration, "=HYPERLINK(1)", user_type="unknown", user_type_reason="no_evidence")
    make_account(integration, "@deploy", user_type="unknown", user_type_reason="no_evidence")
    output = io.StringIO()

    call_command("export_accounts", "--format", "csv", stdout=output)

    rows = list(csv.DictReader(io.StringIO(output.getvalue().lstrip("\ufeff"))))
    names = sorted(row["name"] for row in rows)
    assert names == ["'=HYPERLINK(1)", "'@deploy"]

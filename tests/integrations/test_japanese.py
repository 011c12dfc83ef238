"""The product in Japanese: pages, stored check results, the language switch, dates and time zones."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select

from integrations.models import Integration, SyncRun
from integrations.services.connection import integrate_aws
from tests.accounts.factories import make_account
from tests.browser import log_in, wait_for
from tests.integrations.conftest import EXTERNAL_ID

PROJECT = Path(__file__).resolve().parent.parent.parent
CATALOGUE = PROJECT / "locale" / "ja" / "LC_MESSAGES"
PASSWORD = "a-long-test-password"
WRONG_EXTERNAL_ID = "a-wrong-external-id-typed-by-mistake-0000"


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue():
    """Compile the Japanese catalogue when the .mo file is missing or older than the .po file."""
    compiled, source = CATALOGUE / "django.mo", CATALOGUE / "django.po"
    if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
        call_command("compilemessages", locale=["ja"], ignore_patterns=[".venv"], verbosity=0)
        translation.trans_real._translations.clear()


@pytest.fixture(autouse=True)
def restored_language():
    """Restore the active language: LocaleMiddleware leaves a request's language active in the thread."""
    language = translation.get_language()
    yield
    translation.activate(language)


def change_url(integration: Integration) -> str:
    return reverse("admin:integrations_integration_change", args=[integration.pk])


def failed_integration(role_arn: str) -> Integration:
    """Integrate with a wrong external id in English, as a worker with LANGUAGE_CODE=en would."""
    with translation.override("en"):
        return integrate_aws(name="", role_arn=role_arn, external_id=WRONG_EXTERNAL_ID, actor=None).integration


@pytest.mark.django_db
def test_stored_error_renders_in_reader_language(admin_client, customer_role):
    integration = failed_integration(customer_role)
    assert "external ID shown in Settings" in integration.last_error_fix

    page = admin_client.get(change_url(integration), HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "設定に表示されている外部 ID を正確に要求している必要があります" in page
    assert "AWS がロール" in page
    assert "external ID shown in Settings" not in page


@pytest.mark.django_db
def test_stored_checks_render_in_reader_language(admin_client, customer_role):
    with translation.override("en"):
        integration = integrate_aws(name="", role_arn=customer_role, external_id=EXTERNAL_ID, actor=None).integration

    page = admin_client.get(change_url(integration), HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "外部 ID を指定してロールを引き受けました。" in page
    assert "ロールには基本ポリシーのすべての許可があります。" in page
    assert "Assumed the role with the external ID." not in page


@pytest.mark.django_db
def test_stale_run_error_renders_in_reader_language(admin_client, customer_role):
    integration = failed_integration(customer_role)
    SyncRun.objects.create(
        integration=integration,
        status=SyncRun.Status.FAILED,
        error_code="JobTimedOut",
        error_params={"seconds": 900},
        error_message="The sync did not finish within 900 seconds.",
        warnings=[{"code": "AccessDenied", "action": "iam:ListUserTags", "message": "User is not authorized"}],
    )

    page = admin_client.get(change_url(integration), HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "同期が 900 秒以内に終わりませんでした。" in page
    assert "iam:ListUserTags を呼び出せなかったため (AccessDenied)" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "time_zone", "expected"),
    [
        ("ja", "Asia/Tokyo", "2026年4月1日0:30"),
        ("en", "UTC", "March 31, 2026, 3:30 p.m."),
        ("ja", "UTC", "2026年3月31日15:30"),
    ],
)
def test_run_time_follows_language_and_time_zone(admin_client, customer_role, settings, language, time_zone, expected):
    settings.TIME_ZONE = time_zone
    integration = failed_integration(customer_role)
    run = SyncRun.objects.create(integration=integration, status=SyncRun.Status.SUCCEEDED)
    SyncRun.objects.filter(pk=run.pk).update(queued_at=datetime.datetime(2026, 3, 31, 15, 30, tzinfo=datetime.UTC))

    page = admin_client.get(change_url(integration), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f"<td>{expected}</td>" in page


@pytest.mark.django_db
def test_command_errors_follow_language_code(settings):
    settings.LANGUAGE_CODE = "ja"

    with pytest.raises(CommandError) as raised:
        call_command("sync_integration", "999")

    assert str(raised.value) == "ID が 999 の連携はありません。何もキューに登録していません。"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LANGUAGE_CODE": "ja"}, "Asia/Tokyo"),
        ({"LANGUAGE_CODE": "en"}, "UTC"),
        ({"LANGUAGE_CODE": "ja", "TIME_ZONE": "Europe/Paris"}, "Europe/Paris"),
    ],
)
def test_default_time_zone_follows_language_code(environment, expected):
    script = "import django; django.setup(); from django.conf import settings; print(settings.TIME_ZONE)"
    inherited = {key: value for key, value in os.environ.items() if key not in ("LANGUAGE_CODE", "TIME_ZONE")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_render_in_japanese(browser_ja, live_server, customer_role):
    get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)
    log_in(browser_ja, live_server.url, username="admin", password=PASSWORD)

    browser_ja.get(f"{live_server.url}/admin/integrations/integration/add/")
    content = browser_ja.find_element(By.ID, "content").text
    assert "ステップ 1: AWS でロールを作成する" in content
    assert "ステップ 2: ロールを接続する" in content
    assert "信頼ポリシー" in content
    browser_ja.find_element(By.ID, "id_role_arn").send_keys(customer_role)
    external_id = browser_ja.find_element(By.ID, "id_external_id")
    external_id.clear()
    external_id.send_keys(WRONG_EXTERNAL_ID)
    browser_ja.find_element(By.NAME, "integrate").click()

    fix = wait_for(browser_ja, expected_conditions.visibility_of_element_located((By.ID, "last-error-fix")))
    assert "設定に表示されている外部 ID" in fix.text
    assert browser_ja.find_element(By.ID, "integration-status").text == "失敗"
    assert "外部 ID を指定したロールの引き受け" in browser_ja.find_element(By.ID, "checks").text
    assert "接続チェック" in browser_ja.find_element(By.ID, "content").text

    make_account(Integration.objects.get(), "tyamada")
    browser_ja.get(f"{live_server.url}/admin/accounts/saasaccount/")
    assert browser_ja.find_element(By.CSS_SELECTOR, "td.field-user_type_badge").text == "不明"
    headers = browser_ja.find_element(By.CSS_SELECTOR, "#result_list thead").text
    assert "ユーザー種別" in headers
    assert "最終アクティビティ" in headers
    assert browser_ja.find_element(By.CSS_SELECTOR, "td.field-status").text == "アクティブ"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_language_switch_changes_language(browser, live_server):
    get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)
    log_in(browser, live_server.url, username="admin", password=PASSWORD)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "Accounts in your cloud services" in browser.find_element(By.ID, "content").text

    Select(browser.find_element(By.ID, "language-select")).select_by_value("ja")

    wait_for(browser, lambda driver: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja")
    assert "クラウドサービスのアカウント" in browser.find_element(By.ID, "content").text
    browser.get(f"{live_server.url}/admin/integrations/integration/add/")
    assert "ステップ 1: AWS でロールを作成する" in browser.find_element(By.ID, "content").text

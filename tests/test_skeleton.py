import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By

from tests.browser import log_in

PROJECT = Path(__file__).resolve().parent.parent

PRODUCTION_ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-for-the-check-0123456789-abcdefghij",
    "ALLOWED_HOSTS": "rollcall.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_PRELOAD": "true",
    "DATABASE_URL": "sqlite:///:memory:",
}


def run_manage(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(PROJECT), "ENV_FILE": os.devnull, **environment}
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_has_no_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", environment=PRODUCTION_ENVIRONMENT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("variable", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_settings_fail_closed(variable):
    environment = {key: value for key, value in PRODUCTION_ENVIRONMENT.items() if key != variable}
    result = run_manage("check", environment=environment)
    assert result.returncode != 0
    assert f"{variable} is not set" in result.stderr


def test_retry_shorter_than_timeout_is_rejected():
    environment = {**PRODUCTION_ENVIRONMENT, "JOB_TIMEOUT_SECONDS": "600", "JOB_RETRY_SECONDS": "600"}
    result = run_manage("check", environment=environment)
    assert result.returncode != 0
    assert "JOB_RETRY_SECONDS (600) must be greater than JOB_TIMEOUT_SECONDS (600)" in result.stderr


def test_job_settings_are_safe(settings):
    cluster = settings.Q_CLUSTER
    assert cluster["name"] == "rollcall"
    assert cluster["retry"] > cluster["timeout"]
    assert 1 <= cluster["max_attempts"] <= 5


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_login_in_browser(browser, live_server, tmp_path):
    get_user_model().objects.create_superuser("admin", "admin@example.com", "correct-horse-battery")

    log_in(browser, live_server.url, username="admin", password="correct-horse-battery")

    assert "admin" in browser.find_element(By.ID, "user-tools").text.lower()
    screenshot = tmp_path / "admin-index.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0

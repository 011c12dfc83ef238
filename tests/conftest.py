"""Fixtures shared by the whole suite: environment isolation and the headless browser."""

import os
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(autouse=True)
def _isolated_aws_environment(monkeypatch):
    """Keep boto3 away from real AWS: no shared credential files, no instance metadata."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep a screenshot and the page source of a failing browser test, and print their paths."""
    report = yield
    funcargs = getattr(item, "funcargs", {})
    browser = funcargs.get("browser") or funcargs.get("browser_ja")
    if report.failed and browser is not None and call.when == "call":
        folder = Path(funcargs["tmp_path"]) if "tmp_path" in funcargs else Path.cwd()
        screenshot = folder / "failure.png"
        page_source = folder / "failure.html"
        browser.save_screenshot(str(screenshot))
        page_source.write_text(browser.page_source, encoding="utf-8")
        report.sections.append(
            ("browser", f"Screenshot: {screenshot}\nPage source: {page_source}\nURL: {browser.current_url}")
        )
    return report


def start_browser(profile_folder: Path, *, language: str = "en-US") -> webdriver.Chrome:
    """Start a headless Chromium driven by Debian's ChromeDriver; never downloads a driver."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"Browser tests need {' and '.join(missing)}. Install Debian's chromium and "
            "chromium-driver packages (make test does this when run as root)."
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={profile_folder}",
        f"--lang={language}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium that requests English pages."""
    driver = start_browser(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


@pytest.fixture
def browser_ja(tmp_path):
    """A headless Chromium that requests Japanese pages, as a browser set to Japanese does."""
    driver = start_browser(tmp_path / "chromium-profile-ja", language="ja")
    yield driver
    driver.quit()

"""The platform's AWS credentials come only from boto3's credential chain, never from settings or code."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from integrations.connectors.aws.client import PLATFORM_ACCOUNT_ID_CACHE_KEY, AwsError, platform_account_id

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("config", "integrations", "accounts", "audit")
CREDENTIAL_ARGUMENT = re.compile(r"aws_(access_key_id|secret_access_key|session_token)\s*=")


def test_settings_hold_no_aws_credentials():
    names = [name for name in dir(settings) if name.isupper()]

    assert not [name for name in names if re.search(r"ACCESS_KEY|SECRET_ACCESS|SESSION_TOKEN", name)]


def test_product_code_passes_no_credentials_to_boto3():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CREDENTIAL_ARGUMENT.search(line)
    ]

    assert offenders == []


def test_missing_chain_credentials_fail_clearly(monkeypatch, settings):
    settings.PLATFORM_AWS_ACCOUNT_ID = ""
    cache.delete(PLATFORM_ACCOUNT_ID_CACHE_KEY)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")

    with pytest.raises(AwsError) as raised:
        platform_account_id()

    assert raised.value.code == "NoPlatformCredentials"

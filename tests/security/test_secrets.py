"""External ids and credentials never reach logs, stored messages, audit events or exports.

The test captures every log record at DEBUG, botocore's included, through a whole integrate,
sync and offboarding against the fake AWS. botocore logs response bodies at DEBUG, and the
AssumeRole response contains the session's secret key and token, so the captured botocore
records do contain them. That is how the test learns the session credentials the fake issued.
The product keeps botocore and boto3 at WARNING in settings.LOGGING, so the assertion covers
what the product's configured handlers would write: every record at or above the level that
settings.LOGGING gives its logger, plus every record of Rollcall's own loggers at any level.
"""

import json
import logging
import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Offboarding, OffboardingStep, SaaSAccount
from audit.models import AuditEvent
from integrations.connectors.aws import policies
from integrations.models import Integration, SyncRun

CUSTOMER_ACCOUNT_ID = "222222222222"
EXTERNAL_ID = "rollcall-secret-external-id-9f8e7d6c5b4a3210"
PRODUCT_LOGGERS = ("integrations", "accounts", "audit", "config")


def configured_level(logger_name: str) -> int:
    """Return the level settings.LOGGING gives `logger_name`, by its nearest configured ancestor."""
    loggers = settings.LOGGING.get("loggers", {})
    name = logger_name
    while name:
        if name in loggers and "level" in loggers[name]:
            return logging.getLevelName(loggers[name]["level"])
        name = name.rpartition(".")[0]
    return logging.getLevelName(settings.LOGGING["root"]["level"])


def emitted_by_product(record: logging.LogRecord) -> bool:
    if record.name.split(".")[0] in PRODUCT_LOGGERS:
        return True
    return record.levelno >= configured_level(record.name)


def session_secrets(records) -> set[str]:
    """Return the secret keys and session tokens found in botocore's DEBUG logs of AssumeRole responses."""
    found = set()
    for record in records:
        text = record.getMessage()
        found.update(re.findall(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", text))
        found.update(re.findall(r"<SessionToken>([^<]+)</SessionToken>", text))
    return found


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "boto3", "urllib3", *PRODUCT_LOGGERS, "django_q"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_no_secret_leaks_through_integrate_sync_offboard(
    admin_client, fake_aws, everything_logged, django_capture_on_commit_callbacks, settings
):
    settings.PLATFORM_AWS_ACCOUNT_ID = ""
    fake_aws.create_account(CUSTOMER_ACCOUNT_ID)
    role_arn = fake_aws.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID,
        external_id=EXTERNAL_ID,
        actions=policies.BASELINE_ACTIONS + policies.OFFBOARDING_ACTIONS,
    )
    iam = fake_aws.iam(CUSTOMER_ACCOUNT_ID)
    iam.create_user(UserName="leaver", Tags=[{"Key": "email", "Value": "leaver@example.com"}])
    iam.create_access_key(UserName="leaver")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:integrations_integration_add"),
            {"name": "Production", "role_arn": role_arn, "external_id": EXTERNAL_ID},
        )
    # A sync with a denied sub-call stores warnings; a wrong external id stores an error message.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:integrations_integration_add"),
            {"name": "Wrong", "role_arn": role_arn.replace("RollcallAccess", "Other"), "external_id": EXTERNAL_ID},
        )
    account = SaaSAccount.objects.get(name="leaver")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:accounts_saasaccount_offboard_plan"), {"account": [str(account.pk)]})
        offboarding = Offboarding.objects.get()
        admin_client.post(
            reverse("admin:accounts_saasaccount_offboard_confirm"),
            {"ids": str(offboarding.pk), "confirm": "yes", f"confirm_name_{offboarding.pk}": "leaver"},
        )
    account_export = admin_client.post(
        reverse("admin:accounts_saasaccount_changelist"),
        {"action": "export_json", "_selected_action": [str(account.pk)]},
    )
    audit_export = admin_client.post(
        reverse("admin:audit_auditevent_changelist"),
        {
            "action": "export_csv",
            "_selected_action": [str(pk) for pk in AuditEvent.objects.values_list("pk", flat=True)],
        },
    )

    offboarding.refresh_from_db()
    assert Integration.objects.get(name="Production").status == Integration.Status.CONNECTED
    assert SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists()
    assert offboarding.status == Offboarding.Status.SUCCEEDED
    records = everything_logged.records
    session = session_secrets(records)
    assert session, "botocore's DEBUG log should contain the AssumeRole response"
    secrets = {EXTERNAL_ID, fake_aws.platform_credentials["aws_secret_access_key"], *session}

    logs = "\n".join(f"{record.name} {record.getMessage()}" for record in records if emitted_by_product(record))
    stored = json.dumps(
        [
            list(Integration.objects.values("last_error_code", "last_error_message", "last_error_fix", "checks")),
            list(SyncRun.objects.values("error_code", "error_message", "warnings")),
            list(Offboarding.objects.values("error_code", "error_message", "snapshot", "plan")),
            list(OffboardingStep.objects.values("parameters", "request", "error_code", "error_message", "result")),
            list(AuditEvent.objects.values("object_repr", "job", "before", "after", "aws_request_id")),
        ],
        default=str,
    )
    exports = b"".join(account_export.streaming_content).decode() + b"".join(audit_export.streaming_content).decode(
        "utf-8-sig"
    )
    for secret in secrets:
        assert secret not in logs, f"a secret ending …{secret[-4:]} is in the logs"
        assert secret not in stored, f"a secret ending …{secret[-4:]} is stored in a message or audit event"
        assert secret not in exports, f"a secret ending …{secret[-4:]} is in an export"


def test_settings_keep_botocore_quiet():
    assert configured_level("botocore") >= logging.WARNING
    assert configured_level("botocore.parsers") >= logging.WARNING
    assert configured_level("boto3.resources") >= logging.WARNING

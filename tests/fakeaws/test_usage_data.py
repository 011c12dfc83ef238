import csv
import datetime as dt
import io

import pytest
from botocore.exceptions import ClientError
from fakeaws_support import CUSTOMER_ACCOUNT_ID, error_of

KEY_USED = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
PASSWORD_USED = dt.datetime(2026, 7, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def alice(fake_aws, admin_iam) -> dict:
    admin_iam.create_user(UserName="alice")
    admin_iam.create_login_profile(UserName="alice", Password="Test-Passw0rd-Not-Real!")
    serial = admin_iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    admin_iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    used_key = admin_iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    unused_key = admin_iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    fake_aws.set_last_used(CUSTOMER_ACCOUNT_ID, used_key, when=KEY_USED, service="s3", region="eu-west-1")
    fake_aws.set_password_last_used(CUSTOMER_ACCOUNT_ID, "alice", PASSWORD_USED)
    admin_iam.create_user(UserName="svc-backup")
    return {"used_key": used_key, "unused_key": unused_key}


def test_access_key_last_used(alice, baseline_iam):
    used = baseline_iam.get_access_key_last_used(AccessKeyId=alice["used_key"])["AccessKeyLastUsed"]
    unused = baseline_iam.get_access_key_last_used(AccessKeyId=alice["unused_key"])["AccessKeyLastUsed"]

    assert used == {"LastUsedDate": KEY_USED, "ServiceName": "s3", "Region": "eu-west-1"}
    assert "LastUsedDate" not in unused
    assert unused["ServiceName"] == "N/A"


def test_password_last_used(alice, baseline_iam):
    users = {user["UserName"]: user for user in baseline_iam.list_users()["Users"]}

    assert users["alice"]["PasswordLastUsed"] == PASSWORD_USED
    assert "PasswordLastUsed" not in users["svc-backup"]


def test_credential_report_before_generation(alice, extended_iam):
    with pytest.raises(ClientError) as raised:
        extended_iam.get_credential_report()

    assert error_of(raised.value) == ("ReportNotPresent", 410)


def test_credential_report_matches_usage(alice, extended_iam):
    assert extended_iam.generate_credential_report()["State"] == "STARTED"
    assert extended_iam.generate_credential_report()["State"] == "COMPLETE"

    report = extended_iam.get_credential_report()
    rows = {row["user"]: row for row in csv.DictReader(io.StringIO(report["Content"].decode()))}

    assert report["ReportFormat"] == "text/csv"
    assert dt.datetime.now(dt.UTC) - report["GeneratedTime"] < dt.timedelta(minutes=5)
    alice_row = rows["alice"]
    assert alice_row["password_enabled"] == "true"
    assert alice_row["password_last_used"] == "2026-07-02T08:00:00+00:00"
    assert alice_row["mfa_active"] == "true"
    assert alice_row["access_key_1_active"] == "true"
    assert alice_row["access_key_1_last_used_date"] == "2026-06-01T09:30:00+00:00"
    assert alice_row["access_key_1_last_used_service"] == "s3"
    assert alice_row["access_key_1_last_used_region"] == "eu-west-1"
    assert alice_row["access_key_2_last_used_date"] == "N/A"
    service_row = rows["svc-backup"]
    assert service_row["password_enabled"] == "false"
    assert service_row["password_last_used"] == "N/A"
    assert service_row["mfa_active"] == "false"
    assert service_row["access_key_1_active"] == "false"

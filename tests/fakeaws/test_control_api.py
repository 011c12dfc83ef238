import datetime as dt

import pytest
from botocore.exceptions import ClientError
from fakeaws_support import CUSTOMER_ACCOUNT_ID, error_of

from fakeaws import RemoteFakeAWS
from fakeaws.control import ControlError


@pytest.fixture
def remote(fake_aws) -> RemoteFakeAWS:
    return RemoteFakeAWS(fake_aws.endpoint_url)


def test_remote_fault_and_calls(remote, baseline_iam):
    remote.inject_fault("ListUsers", nth=1, code="ServiceUnavailable", status=503)

    with pytest.raises(ClientError) as raised:
        baseline_iam.list_users()

    assert error_of(raised.value) == ("ServiceUnavailable", 503)
    assert remote.calls == {"calls": {"AssumeRole": 1, "ListUsers": 1}, "throttled": 0, "denied": 0, "total": 2}


def test_remote_config_and_reset(remote, fake_aws, baseline_iam):
    info = remote.configure(latency_ms=5, rate=50)
    remote.reset()

    assert info["latency_ms"] == 5
    assert info["rate"] == 50
    assert fake_aws.calls == {}
    assert remote.info()["accounts"] == []


def test_remote_usage_data(remote, fake_aws, admin_iam, baseline_iam):
    admin_iam.create_user(UserName="alice")
    key_id = admin_iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    when = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)

    remote.set_last_used(CUSTOMER_ACCOUNT_ID, key_id, when=when, service="ec2", region="us-west-2")

    last_used = baseline_iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
    assert last_used == {"LastUsedDate": when, "ServiceName": "ec2", "Region": "us-west-2"}


def test_remote_seed(remote):
    description = remote.seed("large:20")

    assert description["accounts"][0]["users"] == 20


def test_remote_rejects_bad_request(remote):
    with pytest.raises(ControlError, match="HTTP 400"):
        remote.seed("tiny")

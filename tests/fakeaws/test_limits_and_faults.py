import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.parsers import ResponseParserError
from fakeaws_support import error_of, role_session


def test_latency_added_per_call(fake_aws, baseline_iam):
    fake_aws.latency_ms = 200

    started = time.monotonic()
    baseline_iam.list_users()
    elapsed = time.monotonic() - started

    assert elapsed >= 0.2


def test_rate_limit_throttles(fake_aws, baseline_iam):
    fake_aws.configure(rate=1, burst=2)

    baseline_iam.list_users()
    baseline_iam.list_users()
    with pytest.raises(ClientError) as raised:
        baseline_iam.list_users()

    assert error_of(raised.value) == ("Throttling", 400)
    assert raised.value.response["Error"]["Message"] == "Rate exceeded"
    assert fake_aws.calls.throttled == 1
    assert fake_aws.calls["ListUsers"] == 3


def test_throttling_retried_by_standard_mode(fake_aws, baseline_role):
    iam = role_session(fake_aws, baseline_role).client(
        "iam", endpoint_url=fake_aws.endpoint_url, config=Config(retries={"mode": "standard", "max_attempts": 10})
    )
    fake_aws.configure(rate=5, burst=1)

    responses = [iam.list_users() for _ in range(4)]

    assert sum(response["ResponseMetadata"]["RetryAttempts"] for response in responses) >= 1
    assert fake_aws.calls.throttled >= 1


def test_rate_limit_is_per_account(fake_aws, baseline_iam):
    other_role = fake_aws.create_customer_role(account_id="333333333333", external_id="other-external-id-000")
    other_iam = role_session(fake_aws, other_role, "other-external-id-000").client(
        "iam", endpoint_url=fake_aws.endpoint_url, config=Config(retries={"mode": "standard", "total_max_attempts": 1})
    )
    fake_aws.configure(rate=0.1, burst=1)

    baseline_iam.list_users()
    other_iam.list_users()

    assert fake_aws.calls.throttled == 0


def test_fault_on_nth_call(fake_aws, baseline_iam):
    fake_aws.inject_fault(action="ListUsers", nth=3, code="ServiceFailure", status=500, message="injected failure")

    baseline_iam.list_users()
    baseline_iam.list_users()
    with pytest.raises(ClientError) as raised:
        baseline_iam.list_users()
    baseline_iam.list_users()

    assert error_of(raised.value) == ("ServiceFailure", 500)
    assert raised.value.response["Error"]["Message"] == "injected failure"
    assert fake_aws.faults == []


def test_fault_for_other_action_ignored(fake_aws, baseline_iam):
    fake_aws.inject_fault(action="DeleteUser", nth=1, code="ServiceFailure", status=500)

    baseline_iam.list_users()

    assert len(fake_aws.faults) == 1


def test_malformed_body_fault(fake_aws, baseline_iam):
    fake_aws.inject_fault(action="ListUsers", kind="malformed")

    with pytest.raises(ResponseParserError):
        baseline_iam.list_users()


def test_hanging_call_times_out(fake_aws, baseline_role):
    iam = role_session(fake_aws, baseline_role).client(
        "iam",
        endpoint_url=fake_aws.endpoint_url,
        config=Config(read_timeout=0.5, retries={"mode": "standard", "total_max_attempts": 1}),
    )
    fake_aws.inject_fault(action="ListUsers", kind="hang", hang_seconds=5)

    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        iam.list_users()

    assert time.monotonic() - started < 4
    fake_aws.reset()  # releases the hanging request thread at once


def test_invalid_fault_rejected(fake_aws):
    with pytest.raises(ValueError, match="invalid fault kind"):
        fake_aws.inject_fault(action="ListUsers", kind="explode")


def test_call_counts_reset(fake_aws, baseline_iam):
    baseline_iam.list_users()
    assert fake_aws.calls == {"AssumeRole": 1, "ListUsers": 1}

    fake_aws.reset()

    assert fake_aws.calls == {}
    assert fake_aws.calls.throttled == 0


def test_layer_failure_returns_internal_failure(fake_aws, baseline_iam, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("simulated bug in the layer")

    monkeypatch.setattr(fake_aws.layer, "dispatch_iam", fail)

    with pytest.raises(ClientError) as raised:
        baseline_iam.list_users()

    assert error_of(raised.value) == ("InternalFailure", 500)

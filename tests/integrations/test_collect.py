"""The IAM collection connector, against the fake AWS over the real boto3 stack."""

import dataclasses

import pytest

from integrations.connectors.aws import collect
from integrations.connectors.aws.client import CallCounter, assume_role_session

pytestmark = pytest.mark.django_db


def seeded_role(fake_aws, n_users: int, *, policy: str = "extended", account_id: str = "444444444444") -> dict:
    description = fake_aws.seed_large(n_users, account_id=account_id)
    roles = description["accounts"][0]["roles"]
    return next(role for role in roles if role["policy"] == policy)


def run_collection(role: dict, strategy: str, **options) -> collect.CollectionResult:
    counter = CallCounter()
    session = assume_role_session(role_arn=role["role_arn"], external_id=role["external_id"], counter=counter)
    return collect.collect(session=session, counter=counter, strategy=strategy, **options)


def previous_state_of(result: collect.CollectionResult) -> collect.PreviousState:
    previous = collect.PreviousState()
    for account in result.accounts:
        if account.access_keys:
            previous.access_keys[account.provider_id] = account.access_keys
        if account.mfa_devices:
            previous.mfa_devices[account.provider_id] = account.mfa_devices
    return previous


def test_strategies_give_same_accounts(fake_aws):
    role = seeded_role(fake_aws, 45)

    per_user = run_collection(role, collect.PER_USER)
    bulk = run_collection(role, collect.BULK)

    assert per_user.strategy == "per_user"
    assert bulk.strategy == "bulk"
    assert per_user.warnings == []
    assert bulk.warnings == []
    assert [account.provider_id for account in bulk.accounts] == [account.provider_id for account in per_user.accounts]
    for expected, actual in zip(per_user.accounts, bulk.accounts, strict=True):
        for field in dataclasses.fields(collect.CollectedAccount):
            assert getattr(actual, field.name) == getattr(expected, field.name), (expected.name, field.name)
    assert bulk.contact_information == per_user.contact_information
    users = [account for account in per_user.accounts if account.kind == "iam_user"]
    assert len(users) == 45
    assert any(account.access_keys for account in users)
    assert any(account.mfa_devices for account in users)
    assert any(account.service_linked for account in per_user.accounts)


def test_bulk_with_previous_state_makes_few_calls(fake_aws):
    role = seeded_role(fake_aws, 90)
    per_user = run_collection(role, collect.PER_USER)

    bulk = run_collection(role, collect.BULK, previous=previous_state_of(per_user))

    assert bulk.accounts == per_user.accounts
    assert per_user.calls > 600
    assert bulk.calls < 10


def test_per_user_counts_every_call(fake_aws):
    role = seeded_role(fake_aws, 12, policy="baseline")
    fake_aws.reset_calls()

    result = run_collection(role, collect.PER_USER)

    calls = fake_aws.calls
    assert calls["AssumeRole"] == 1
    assert result.calls == calls.total
    assert calls["ListUserTags"] == 12
    assert calls["GetLoginProfile"] == 1
    assert calls.denied == 1


def test_baseline_policy_leaves_console_password_unknown(fake_aws):
    role = seeded_role(fake_aws, 12, policy="baseline")

    result = run_collection(role, collect.PER_USER)

    assert result.warnings == []
    never_signed_in = [a for a in result.accounts if a.kind == "iam_user" and a.password_last_used is None]
    assert never_signed_in
    for account in never_signed_in:
        assert account.has_console_password is None
        assert account.unreadable["has_console_password"] == "iam:GetLoginProfile"


def test_denied_subcall_leaves_field_unknown(fake_aws):
    fake_aws.create_account("555555555555")
    actions = [action for action in collect_actions() if action != "iam:ListMFADevices"]
    arn = fake_aws.create_customer_role(account_id="555555555555", external_id="e" * 40, actions=actions)
    fake_aws.iam("555555555555").create_user(UserName="alice")

    result = run_collection({"role_arn": arn, "external_id": "e" * 40}, collect.PER_USER)

    alice = next(account for account in result.accounts if account.name == "alice")
    assert alice.mfa_enabled is None
    assert alice.mfa_devices is None
    assert alice.unreadable["mfa_devices"] == "iam:ListMFADevices"
    assert alice.groups == []
    assert [(warning.code, warning.action) for warning in result.warnings] == [("AccessDenied", "iam:ListMFADevices")]


def test_progress_counts_users(fake_aws):
    role = seeded_role(fake_aws, 10, policy="baseline")
    reports = []

    run_collection(role, collect.PER_USER, on_progress=lambda done, total: reports.append((done, total)))

    assert reports == [(done, 10) for done in range(11)]


def test_throttling_is_retried_and_counted(fake_aws):
    role = seeded_role(fake_aws, 6, policy="baseline")
    fake_aws.configure(rate=20, burst=2)

    result = run_collection(role, collect.PER_USER, max_concurrency=8)

    assert result.throttled_retries > 0
    assert result.throttled_retries == fake_aws.calls.throttled
    assert len([a for a in result.accounts if a.kind == "iam_user"]) == 6


def test_trusted_principals_from_trust_policy():
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["ec2.amazonaws.com"], "AWS": "arn:aws:iam::1:root"},
            },
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::2:root"}},
        ]
    }

    assert collect.trusted_principals(document) == [
        {"type": "AWS", "id": "arn:aws:iam::1:root"},
        {"type": "Service", "id": "ec2.amazonaws.com"},
    ]


def collect_actions():
    from integrations.connectors.aws.policies import BASELINE_ACTIONS

    return BASELINE_ACTIONS

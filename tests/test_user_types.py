from accounts.user_types import AccountEvidence, decide_user_type, describe_reason


def test_unlinked_email_is_named_in_reason():
    decision = decide_user_type(AccountEvidence(kind="iam_user", name="hsato", email="hanako@example.com"))

    assert decision.user_type == "unknown"
    assert decision.reason_code == "email_without_person"
    assert "hanako@example.com" in describe_reason(decision.reason_code, decision.reason_params)


def test_no_evidence_without_email():
    decision = decide_user_type(AccountEvidence(kind="iam_user", name="hsato"))

    assert decision.reason_code == "no_evidence"


def test_keys_without_console_mean_system():
    decision = decide_user_type(AccountEvidence(kind="iam_user", name="deployer", access_key_count=2))

    assert decision.user_type == "system"
    assert decision.reason_code == "keys_without_console"

"""A real qcluster worker killed with SIGKILL in the middle of a sync loses nothing.

The worker runs in a subprocess, so this test uses a SQLite file database, because the in-memory
test database is not shared with other processes. The session's fake AWS is slowed down so that
the sync is still running when the worker is killed.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "777777777777"
JOB_TIMEOUT_SECONDS = 4
RUNNING_WITH_PROGRESS = "SELECT 1 FROM integrations_syncrun WHERE id = 2 AND status = 'running' AND progress_done > 0"


def wait_for(condition, *, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(message)


@pytest.fixture
def project(tmp_path, fake_aws):
    database = tmp_path / "rollcall.sqlite3"
    credentials = fake_aws.platform_credentials
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-secret-key-for-the-worker-test-0123456789",
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": f"sqlite:///{database}",
        "AWS_ENDPOINT_URL": fake_aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "JOB_TIMEOUT_SECONDS": str(JOB_TIMEOUT_SECONDS),
        "JOB_RETRY_SECONDS": "600",
        "REDIS_URL": "",
    }

    def manage(*arguments: str) -> str:
        completed = subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    def query(sql: str):
        with sqlite3.connect(database) as connection:
            return connection.execute(sql).fetchall()

    manage("migrate", "--verbosity", "0")
    return {"manage": manage, "query": query, "environment": environment}


def test_sigkill_mid_sync_then_next_sync_works(project, fake_aws):
    manage, query = project["manage"], project["query"]
    description = fake_aws.seed_large(30, account_id=ACCOUNT_ID)
    role = next(role for role in description["accounts"][0]["roles"] if role["policy"] == "baseline")
    manage(
        "shell",
        "-c",
        "from integrations.models import Integration; "
        f"Integration.objects.create(name='Killed', role_arn='{role['role_arn']}', "
        f"external_id='{role['external_id']}', aws_account_id='{ACCOUNT_ID}', status='connected')",
    )
    manage("sync_integration", "1", "--wait")
    stored_before = query("SELECT provider_id, name, status, last_seen FROM accounts_saasaccount ORDER BY provider_id")
    assert len(stored_before) >= 30

    fake_aws.iam(ACCOUNT_ID).create_user(UserName="arrived-later")
    fake_aws.configure(latency_ms=150)
    manage("sync_integration", "1")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=project["environment"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: query(
                "SELECT 1 FROM integrations_syncrun WHERE id = 2 AND status = 'running' AND progress_done > 0"
            ),
            timeout=60,
            message="the worker never started the sync",
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    fake_aws.configure(latency_ms=0)

    assert query("SELECT status FROM integrations_syncrun WHERE id = 2") == [("running",)]
    assert (
        query("SELECT provider_id, name, status, last_seen FROM accounts_saasaccount ORDER BY provider_id")
        == stored_before
    )

    time.sleep(JOB_TIMEOUT_SECONDS + 1)
    assert (
        manage("shell", "-c", "from integrations.tasks import fail_stale_runs; print(fail_stale_runs())").split()[-1]
        == "1"
    )
    assert query("SELECT status, error_code FROM integrations_syncrun WHERE id = 2") == [("failed", "JobTimedOut")]

    manage("sync_integration", "1", "--wait")

    assert query("SELECT status FROM integrations_syncrun WHERE id = 3") == [("succeeded",)]
    assert query("SELECT count(*) FROM accounts_saasaccount WHERE name = 'arrived-later'") == [(1,)]

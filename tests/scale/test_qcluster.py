"""A real django-q2 cluster (`manage.py qcluster`) on Redis runs a queued sync against the fake AWS."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import SaaSAccount
from integrations.models import SyncRun
from integrations.services.sync_queue import queue_sync

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROJECT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 120


def database_url() -> str:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


def stop(cluster: subprocess.Popen) -> None:
    os.killpg(cluster.pid, signal.SIGTERM)
    try:
        cluster.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


def test_qcluster_runs_queued_sync(make_integration, make_user, monkeypatch, tmp_path):
    if not settings.REDIS_URL:
        pytest.fail("This test needs REDIS_URL. Run it with 'make test-scale'.")
    queue_name = f"rollcall-test-{os.getpid()}"
    monkeypatch.setattr("django_q.tasks.Conf.SYNC", False)
    # The cluster's name is both the Redis list and the salt of the signed tasks, so both sides use it.
    monkeypatch.setattr("django_q.conf.Conf.CLUSTER_NAME", queue_name)
    monkeypatch.setattr("django_q.conf.Conf.PREFIX", queue_name)
    integration = make_integration()
    make_user(integration, "alice")
    make_user(integration, "bob")

    run = queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED
    assert run.task_id

    log = tmp_path / "qcluster.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "Q_CLUSTER_NAME": queue_name,
        "Q_WORKERS": "1",
    }
    with log.open("w") as output:
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=PROJECT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while run.status in SyncRun.ACTIVE_STATUSES and time.monotonic() < deadline:
            assert cluster.poll() is None, f"qcluster exited with {cluster.returncode}:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
            run.refresh_from_db()
    finally:
        stop(cluster)

    assert run.status == SyncRun.Status.SUCCEEDED, f"run is {run.status}; qcluster log:\n{log.read_text()[-3000:]}"
    names = set(SaaSAccount.objects.filter(integration=integration).values_list("name", flat=True))
    assert {"alice", "bob"} <= names

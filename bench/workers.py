"""Time syncs of many integrations with 1, 2 and 4 django-q2 worker processes on PostgreSQL and Redis.

Starts `python -m fakeaws` in its own process with latency and a rate limit, seeds one AWS account
per integration, builds a throwaway PostgreSQL database, and for each worker count: queues a sync of
every integration through Redis, starts `manage.py qcluster` with Q_WORKERS set to that count,
waits until every sync run has finished, and stops the cluster. Accounts and runs are deleted between
rounds, so every round stores the same number of new accounts.

    .venv/bin/python bench/workers.py --integrations 50 --users 2000 --workers 1 2 4

The elapsed time of a round runs from the first run's start to the last run's finish, so it leaves
out the cluster's start-up. Needs PostgreSQL and Redis on 127.0.0.1 (see --database-url and
--redis-url); the Redis database must be empty, so that no other queue is drained by accident.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
FIRST_ACCOUNT_ID = 300000000000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_fake(options) -> tuple[subprocess.Popen, dict]:
    """Start the fake AWS, seed one account per integration, and return the process and its details."""
    from fakeaws import RemoteFakeAWS

    port = free_port()
    command = [sys.executable, "-m", "fakeaws", "--port", str(port), "--latency-ms", str(options.latency_ms)]
    if options.rate:
        command += ["--rate", str(options.rate)]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    remote = RemoteFakeAWS(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            info = remote.info()
            break
        except Exception:
            if time.monotonic() > deadline or process.poll() is not None:
                process.terminate()
                raise SystemExit("fakeaws did not start within 60 s; run it by hand to see why.") from None
            time.sleep(0.2)
    roles = []
    started = time.monotonic()
    for index in range(options.integrations):
        account_id = str(FIRST_ACCOUNT_ID + index)
        described = remote.seed(f"large:{options.users}", account_id=account_id)
        role = next(role for role in described["accounts"][0]["roles"] if role["policy"] == options.policy)
        roles.append({"account_id": account_id, **role})
    print(f"seeded {options.integrations} accounts of {options.users} users in {time.monotonic() - started:.0f} s")
    return process, {"endpoint_url": info["endpoint_url"], "credentials": info["platform_credentials"], "roles": roles}


def environment(options, fake: dict, database_url: str, workers: int) -> dict:
    credentials = fake["credentials"]
    return {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": options.redis_url,
        "Q_WORKERS": str(workers),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "AWS_ENDPOINT_URL": fake["endpoint_url"],
        "AWS_ACCESS_KEY_ID": credentials.get("aws_access_key_id", ""),
        "AWS_SECRET_ACCESS_KEY": credentials.get("aws_secret_access_key", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
    }


def setup_django(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def create_database(base_url: str) -> tuple[str, str]:
    import psycopg

    name = f"rollcall_bench_workers_{os.getpid()}"
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, f"{base_url}/{name}"


def drop_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_round(options, fake: dict, database_url: str, workers: int) -> dict:
    """Queue every integration's sync, drain the queue with a cluster of `workers`, and return the figures."""
    from django.db.models import Max, Min, Sum

    from accounts.models import AccessKey, SaaSAccount
    from integrations.models import Integration, SyncRun
    from integrations.services.sync_queue import queue_sync

    AccessKey.objects.all().delete()
    SaaSAccount.objects.all().delete()
    SyncRun.objects.all().delete()
    for integration in Integration.objects.all():
        queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL)

    env = environment(options, fake, database_url, workers)
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + options.timeout
    try:
        while SyncRun.objects.filter(status__in=SyncRun.ACTIVE_STATUSES).exists():
            if cluster.poll() is not None:
                raise SystemExit(f"qcluster stopped with exit code {cluster.returncode}")
            if time.monotonic() > deadline:
                raise SystemExit(f"the syncs did not finish within {options.timeout} s")
            time.sleep(0.5)
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()

    runs = SyncRun.objects.all()
    figures = runs.aggregate(first=Min("started_at"), last=Max("finished_at"), calls=Sum("aws_calls"))
    return {
        "workers": workers,
        "seconds": (figures["last"] - figures["first"]).total_seconds(),
        "succeeded": runs.filter(status__in=["succeeded", "partial"]).count(),
        "accounts": SaaSAccount.objects.count(),
        "calls": figures["calls"],
        "throttled": runs.aggregate(total=Sum("throttled_retries"))["total"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integrations", type=int, default=50, help="number of integrations (AWS accounts)")
    parser.add_argument("--users", type=int, default=2000, help="IAM users in each AWS account")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts to measure")
    parser.add_argument("--latency-ms", type=float, default=20, help="delay the fake adds to every call, in ms")
    parser.add_argument("--rate", type=float, default=20, help="requests per second per AWS account before throttling")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="Redis database for the queue")
    parser.add_argument("--timeout", type=int, default=3600, help="maximum seconds per round")
    parser.add_argument(
        "--policy",
        choices=["baseline", "extended"],
        default="baseline",
        help="role each integration uses: baseline syncs with per-user calls, extended with bulk calls",
    )
    options = parser.parse_args()

    import redis

    queue = redis.Redis.from_url(options.redis_url)
    if queue.dbsize():
        raise SystemExit(f"Redis database {options.redis_url} is not empty; choose an empty one with --redis-url.")

    fake_process, fake = start_fake(options)
    name, database_url = create_database(options.database_url)
    try:
        setup_django(environment(options, fake, database_url, 1))
        from django.core.management import call_command

        from integrations.models import Integration

        call_command("migrate", verbosity=0)
        for role in fake["roles"]:
            Integration.objects.create(
                name=f"Account {role['account_id']}",
                role_arn=role["role_arn"],
                external_id=role["external_id"],
                aws_account_id=role["account_id"],
                status=Integration.Status.CONNECTED,
                can_collect_fast=options.policy == "extended",
            )
        results = [run_round(options, fake, database_url, workers) for workers in options.workers]
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(options.database_url, name)
        queue.flushdb()
        fake_process.terminate()
        fake_process.wait()

    base = results[0]["seconds"]
    print(
        f"{options.integrations} integrations x {options.users} users, latency {options.latency_ms} ms, "
        f"rate {options.rate}/s per account, {options.policy} policy"
    )
    for result in results:
        print(
            f"workers={result['workers']} time={result['seconds']:.1f} s speed-up={base / result['seconds']:.2f} "
            f"succeeded={result['succeeded']}/{options.integrations} accounts={result['accounts']} "
            f"calls={result['calls']} throttled={result['throttled']}"
        )


if __name__ == "__main__":
    main()

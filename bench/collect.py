"""Benchmark of IAM collection: both strategies and a plain sequential boto3 loop, against the fake AWS.

The fake runs in its own process (`python -m fakeaws`), because moto in this process would share the
interpreter lock with the code under test. Each measurement runs in a fresh child process with its
own SQLite database, so peak memory (ru_maxrss) belongs to that measurement alone.

    .venv/bin/python bench/collect.py --users 2000 --users 5000

Figures per measurement: AWS calls (HTTP attempts, with throttled retries apart), wall time, the lower
bound calls / R, efficiency = bound / wall time, peak memory and database queries.
"""

import argparse
import json
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ROLE_LINE = re.compile(r"^\s+(?P<policy>\w+)\s+role (?P<arn>arn:\S+)\s+external id (?P<external_id>\S+)")
CREDENTIALS_LINE = re.compile(r"AWS_ACCESS_KEY_ID=(?P<key>\S+) AWS_SECRET_ACCESS_KEY=(?P<secret>\S+)")
SEED_TIMEOUT_SECONDS = 1800


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_fake(*, users: int, latency_ms: float, rate: float) -> tuple[subprocess.Popen, dict]:
    """Start `python -m fakeaws` seeded with `users` users; return the process and how to reach it."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "fakeaws",
        "--port",
        str(port),
        "--seed",
        f"large:{users}",
        "--latency-ms",
        str(latency_ms),
        "--rate",
        str(rate),
    ]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    fake = {"endpoint_url": f"http://127.0.0.1:{port}", "roles": {}}
    deadline = time.monotonic() + SEED_TIMEOUT_SECONDS
    for line in process.stdout:
        if match := CREDENTIALS_LINE.search(line):
            fake["access_key"], fake["secret_key"] = match["key"], match["secret"]
        if match := ROLE_LINE.match(line):
            fake["roles"][match["policy"]] = {"role_arn": match["arn"], "external_id": match["external_id"]}
        if len(fake["roles"]) == 2:
            break
        if time.monotonic() > deadline:
            break
    if len(fake["roles"]) != 2 or "access_key" not in fake:
        process.terminate()
        raise SystemExit("fakeaws did not print its roles and credentials; run it by hand to see why.")
    return process, fake


def run_child(mode: str, fake: dict, options: argparse.Namespace, extra: list[str] | None = None) -> dict:
    """Run one measurement in a child process and return its figures."""
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL": fake["endpoint_url"],
        "AWS_ACCESS_KEY_ID": fake["access_key"],
        "AWS_SECRET_ACCESS_KEY": fake["secret_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_CONFIG_FILE": os.devnull,
        "BENCH_FAKE": json.dumps(fake),
    }
    if options.concurrency:
        environment["AWS_MAX_CONCURRENCY"] = str(options.concurrency)
    command = [sys.executable, __file__, "--child", mode, *(extra or [])]
    result = subprocess.run(command, cwd=PROJECT, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{mode} measurement failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# Child side: one measurement.
def setup_django(database: Path) -> None:
    os.environ["DEBUG"] = "true"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(PROJECT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def child_sync(strategy: str, repeat: bool) -> dict:
    """Run a full sync run (collection and storage) with one strategy; with `repeat`, measure the second."""
    from django.db import connection

    from integrations.models import Integration, SyncRun
    from integrations.services.collection import run_sync_run

    fake = json.loads(os.environ["BENCH_FAKE"])
    role = fake["roles"]["extended" if strategy == "bulk" else "baseline"]
    integration = Integration.objects.create(
        name="bench",
        role_arn=role["role_arn"],
        external_id=role["external_id"],
        aws_account_id=role["role_arn"].split(":")[4],
        can_collect_fast=strategy == "bulk",
    )
    if repeat:
        first = run_sync_run(sync_run_id=SyncRun.objects.create(integration=integration, trigger="manual").pk)
        if first.status == "failed":
            raise SystemExit(f"first sync failed: {first.error_message}")
        time.sleep(2)  # Let the fake's token bucket refill, as between two scheduled syncs.
    run = SyncRun.objects.create(integration=integration, trigger="manual")
    counter = QueryCounter()
    started = time.monotonic()
    with connection.execute_wrapper(counter):
        run = run_sync_run(sync_run_id=run.pk)
    wall = time.monotonic() - started
    return {
        "status": run.status,
        "strategy": run.strategy,
        "error": run.error_message,
        "users": integration.accounts.filter(kind="iam_user").count(),
        "calls": run.aws_calls,
        "throttled": run.throttled_retries,
        "wall": wall,
        "queries": counter.count,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_sequential(sample: int) -> dict:
    """Run the per-user calls one after another with plain boto3, for the first `sample` users."""
    import boto3
    from botocore.config import Config

    fake = json.loads(os.environ["BENCH_FAKE"])
    role = fake["roles"]["baseline"]
    sts = boto3.client("sts")
    credentials = sts.assume_role(RoleArn=role["role_arn"], RoleSessionName="bench", ExternalId=role["external_id"])[
        "Credentials"
    ]
    iam = boto3.client(
        "iam",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(retries={"mode": "standard", "max_attempts": 8}),
    )
    counts = {"calls": 0, "throttled": 0}

    def count_call(**kwargs):
        counts["calls"] += 1

    def count_throttle(response=None, **kwargs):
        if response and (response[1] or {}).get("Error", {}).get("Code") == "Throttling":
            counts["throttled"] += 1

    iam.meta.events.register("before-send", count_call)
    iam.meta.events.register_first("needs-retry", count_throttle)

    started = time.monotonic()
    users = [user for page in iam.get_paginator("list_users").paginate() for user in page["Users"]]
    listing_calls = counts["calls"]
    for user in users[:sample]:
        name = user["UserName"]
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
        iam.list_mfa_devices(UserName=name)
        iam.list_groups_for_user(UserName=name)
        iam.list_attached_user_policies(UserName=name)
        iam.list_user_policies(UserName=name)
        iam.list_user_tags(UserName=name)
    wall = time.monotonic() - started
    sampled = min(sample, len(users))
    scale = len(users) / sampled
    return {
        "status": "estimated" if sampled < len(users) else "measured",
        "sampled_users": sampled,
        "users": len(users),
        # Users beyond the sample are extrapolated from the sample's time and calls per user.
        "calls": round(listing_calls + (counts["calls"] - listing_calls) * scale),
        "throttled": round(counts["throttled"] * scale),
        "wall": wall * scale,
        "queries": 0,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_main(argv: list[str]) -> None:
    mode = argv[0]
    with tempfile.TemporaryDirectory(prefix="rollcall-bench-") as folder:
        if mode == "sequential":
            figures = child_sequential(int(argv[1]))
        else:
            setup_django(Path(folder) / "bench.sqlite3")
            figures = child_sync(mode.removesuffix("-repeat"), repeat=mode.endswith("-repeat"))
    print(json.dumps(figures))


# Parent side.
def report(label: str, figures: dict, rate: float) -> str:
    useful_calls = figures["calls"] - figures["throttled"]
    bound = useful_calls / rate
    efficiency = bound / figures["wall"] if figures["wall"] else 0.0
    figures.update(label=label, bound=bound, efficiency=efficiency)
    cells = [
        label,
        figures["status"],
        str(figures["calls"]),
        str(figures["throttled"]),
        f"{figures['wall']:.1f}",
        f"{bound:.1f}",
        f"{efficiency:.2f}",
        f"{figures['peak_memory_mb']:.0f}",
        str(figures["queries"]),
    ]
    return "| " + " | ".join(cells) + " |"


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{platform.system()} {platform.release()}, {cpus} CPUs ({model}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, action="append", help="users in the seed (repeatable; default 2000)")
    parser.add_argument("--latency-ms", type=float, default=100, help="latency the fake adds to each call (ms)")
    parser.add_argument("--rate", type=float, default=100, help="requests per second per account before throttling")
    parser.add_argument("--concurrency", type=int, help="AWS_MAX_CONCURRENCY for the sync (default: the setting)")
    parser.add_argument(
        "--sequential-sample",
        type=int,
        default=200,
        help="users the sequential loop runs; the rest are extrapolated (0 skips the loop)",
    )
    parser.add_argument(
        "--only",
        choices=["per_user", "bulk", "bulk-repeat", "sequential"],
        action="append",
        help="what to run",
    )
    options = parser.parse_args()
    modes = options.only or ["per_user", "bulk", "bulk-repeat", "sequential"]

    print(f"Machine: {machine()}")
    print(f"Parameters: latency {options.latency_ms} ms, rate {options.rate} requests/s")
    for users in options.users or [2000]:
        started = time.monotonic()
        process, fake = start_fake(users=users, latency_ms=options.latency_ms, rate=options.rate)
        print(f"\nN = {users} users (fake seeded in {time.monotonic() - started:.0f} s)")
        print("| run | status | AWS calls | throttled | wall s | bound s | efficiency | peak MB | DB queries |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        walls = {}
        try:
            for mode in modes:
                if mode == "sequential":
                    if options.sequential_sample <= 0:
                        continue
                    figures = run_child(mode, fake, options, [str(options.sequential_sample)])
                    label = f"sequential loop ({figures['sampled_users']} users measured)"
                else:
                    figures = run_child(mode, fake, options)
                    label = {
                        "per_user": "per-user",
                        "bulk": "bulk, first sync",
                        "bulk-repeat": "bulk, repeat",
                    }[mode]
                print(report(label, figures, options.rate), flush=True)
                walls[mode] = figures["wall"]
                time.sleep(2)
            if "per_user" in walls and "sequential" in walls:
                speedup = walls["sequential"] / walls["per_user"]
                print(f"The per-user strategy is {speedup:.1f} times faster than the sequential loop.")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        main()

"""Time the account list (the SaaSAccount changelist) at 100,000 accounts.

Builds a throwaway SQLite database with bulk_create, then requests the changelist through Django's
test client, unfiltered, with each list filter and with a search, and prints the median time and
the query count of each request.

    .venv/bin/python bench/accounts_list.py [--accounts 100000] [--repeat 5]
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


def configure(database: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "true"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def build(accounts: int) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import AccessKey, Person, SaaSAccount
    from integrations.models import Integration

    call_command("migrate", verbosity=0)
    now = timezone.now()
    integrations = Integration.objects.bulk_create(
        Integration(
            name=f"Account {number}",
            role_arn=f"arn:aws:iam::{number:012d}:role/RollcallAccess",
            external_id=f"bench-external-id-{number:032d}",
            aws_account_id=f"{number:012d}",
            status="connected",
        )
        for number in range(1, 11)
    )
    statuses = ["active"] * 8 + ["left", "on_leave"]
    people = Person.objects.bulk_create(
        Person(email=f"person{number}@example.com", name=f"Person {number}", status=statuses[number % 10])
        for number in range(accounts // 2)
    )
    batch = 10_000
    for start in range(0, accounts, batch):
        rows = []
        for index in range(start, min(start + batch, accounts)):
            integration = integrations[index % len(integrations)]
            person = people[index // 2] if index % 3 else None
            if person is not None:
                user_type = "employee"
            elif index % 2:
                user_type = "system"
            else:
                user_type = "unknown"
            rows.append(
                SaaSAccount(
                    integration=integration,
                    kind="iam_user",
                    provider_id=f"AIDA{index:017d}",
                    name=f"user-{index:06d}",
                    arn=f"arn:aws:iam::{integration.aws_account_id}:user/user-{index:06d}",
                    person=person,
                    email=person.email if person else "",
                    email_source="tag" if person else "",
                    user_type=user_type,
                    has_console_password=bool(person),
                    mfa_enabled=bool(index % 4) if index % 7 else None,
                    groups=["developers"],
                    attached_policies=["ReadOnlyAccess"],
                    inline_policies=[],
                    tags=[],
                    last_activity=now - datetime.timedelta(days=index % 120),
                    last_seen=now,
                )
            )
        created = SaaSAccount.objects.bulk_create(rows)
        AccessKey.objects.bulk_create(
            AccessKey(
                account=account,
                access_key_id=f"AKIA{account.pk:016d}",
                status="Active",
                created=now - datetime.timedelta(days=200),
                last_used_at=now - datetime.timedelta(days=account.pk % 150),
            )
            for account in created
            if account.pk % 2
        )


def measure(repeat: int) -> list[tuple[str, float, int]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-0123")
    client = Client()
    client.force_login(user)
    url = reverse("admin:accounts_saasaccount_changelist")
    cases = [
        ("unfiltered", {}),
        ("person left", {"person_status": "left"}),
        ("person on leave", {"person_status": "on_leave"}),
        ("inactive 45+ days", {"inactive": "45"}),
        ("active key unused 90+ days", {"unused_key": "90"}),
        ("unknown (needs review)", {"review": "unknown"}),
        ("search by name", {"q": "user-09999"}),
        ("search by access key id", {"q": "AKIA0000000000012345"}),
        ("admin index (dashboard)", None),
    ]
    results = []
    for label, query in cases:
        target = reverse("admin:index") if query is None else url
        client.get(target, query or {})
        timings = []
        for _attempt in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(target, query or {})
                timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (label, response.status_code)
        results.append((label, statistics.median(timings), len(captured.captured_queries)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="Number of accounts to create.")
    parser.add_argument("--repeat", type=int, default=5, help="Requests per case; the median is printed.")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rollcall-bench-") as folder:
        configure(Path(folder) / "bench.sqlite3")
        started = time.perf_counter()
        build(arguments.accounts)
        print(f"built {arguments.accounts} accounts in {time.perf_counter() - started:.1f} s")
        for label, seconds, queries in measure(arguments.repeat):
            print(f"{label:32} {seconds * 1000:8.0f} ms  {queries:3} queries")


if __name__ == "__main__":
    main()

"""Time the account list (the SaaSAccount changelist) on PostgreSQL at 500,000 accounts.

Builds the same data as bench/accounts_list.py (10 integrations, half as many people as accounts,
two thirds of the accounts linked, every other account with an active access key) in a throwaway
PostgreSQL database, runs ANALYZE, requests each case through Django's test client, prints the
median time and the query count, and drops the database.

    .venv/bin/python bench/accounts_list_pg.py [--accounts 500000] [--repeat 5]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accounts_list import build, measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=500_000, help="Number of accounts to create.")
    parser.add_argument("--repeat", type=int, default=5, help="Requests per case; the median is printed.")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    arguments = parser.parse_args()

    name = f"rollcall_bench_accounts_{os.getpid()}"
    with psycopg.connect(f"{arguments.database_url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DEBUG": "true",
                "DATABASE_URL": f"{arguments.database_url}/{name}",
                "ALLOWED_HOSTS": "testserver",
                "LOG_LEVEL": "WARNING",
            }
        )
        import django

        django.setup()
        from django.db import connection

        started = time.perf_counter()
        build(arguments.accounts)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"built {arguments.accounts} accounts in {time.perf_counter() - started:.1f} s")
        for label, seconds, queries in measure(arguments.repeat):
            print(f"{label:32} {seconds * 1000:8.0f} ms  {queries:3} queries")
        connection.close()
    finally:
        with psycopg.connect(f"{arguments.database_url}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

"""Helpers of the PostgreSQL tests: threads with their own connections and a wait for row locks."""

import threading
import time

import psycopg
import pytest
from django.db import connection, connections

from tests.offboarding.conftest import iam, make_integration, make_user  # noqa: F401

LOCK_WAIT_TIMEOUT_SECONDS = 30


@pytest.fixture(autouse=True)
def _require_postgresql():
    """Fail, not skip, when these tests run without PostgreSQL: `make test` deselects them on purpose."""
    if connection.vendor != "postgresql":
        pytest.fail("Tests marked postgres need DATABASE_URL to point at PostgreSQL. Run them with 'make test-scale'.")


class Worker(threading.Thread):
    """Run a function in a thread with its own database connection; keep its result or exception."""

    def __init__(self, function, *args, **kwargs):
        super().__init__(daemon=True)
        self.function, self.args, self.kwargs = function, args, kwargs
        self.result = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.function(*self.args, **self.kwargs)
        except BaseException as error:  # noqa: BLE001 - handed to the test through .error
            self.error = error
        finally:
            connections.close_all()

    def finish(self, timeout: float = 60):
        """Wait for the thread and return its result, raising what it raised."""
        self.join(timeout)
        assert not self.is_alive(), f"{self.function.__name__} did not finish within {timeout} s"
        if self.error is not None:
            raise self.error
        return self.result


def wait_for_lock_waits(count: int = 1) -> None:
    """Block until `count` sessions of the test database wait for a lock that another session holds.

    Polls pg_stat_activity over a connection of its own, outside the test's possibly open transaction.
    """
    settings = connection.settings_dict
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT_SECONDS
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as own:
        while True:
            waiting = own.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting >= count:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"Fewer than {count} sessions waited for a lock in {LOCK_WAIT_TIMEOUT_SECONDS} s")
            time.sleep(0.05)

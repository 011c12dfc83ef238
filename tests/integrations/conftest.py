"""Fixtures of the integration tests: the fake AWS, a customer role and a view of the django-q2 queue."""

import os

import pytest
from django.core.cache import cache
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from integrations.connectors.aws import policies
from integrations.connectors.aws.client import PLATFORM_ACCOUNT_ID_CACHE_KEY

CUSTOMER_ACCOUNT_ID = "222222222222"
EXTERNAL_ID = "rollcall-test-external-id-0123456789abcdefXYZ"
CONTACT = {
    "FullName": "Example Operations",
    "CompanyName": "Example Corp",
    "AddressLine1": "1-2-3 Example",
    "City": "Tokyo",
    "CountryCode": "JP",
    "PhoneNumber": "+81-3-0000-0000",
    "PostalCode": "100-0001",
}


@pytest.fixture(autouse=True)
def platform_account_id_not_cached(settings):
    """Make every test find the platform account id through STS of its own fake AWS."""
    settings.PLATFORM_AWS_ACCOUNT_ID = ""
    cache.delete(PLATFORM_ACCOUNT_ID_CACHE_KEY)
    yield
    cache.delete(PLATFORM_ACCOUNT_ID_CACHE_KEY)


@pytest.fixture
def customer_role(fake_aws):
    """A customer account with Rollcall's role: the baseline policy and the test external id."""
    fake_aws.create_account(CUSTOMER_ACCOUNT_ID, contact_information=CONTACT)
    return fake_aws.create_customer_role(
        account_id=CUSTOMER_ACCOUNT_ID, external_id=EXTERNAL_ID, actions=policies.BASELINE_ACTIONS
    )


@pytest.fixture
def queued_tasks(monkeypatch):
    """Put django-q2 tasks on the broker's queue instead of running them inline; return a reader of it.

    The reader returns (function path, arguments) of every queued task.
    """
    monkeypatch.setattr("django_q.tasks.Conf.SYNC", False)
    # With REDIS_URL set (make test-scale), the queue is a Redis list that other runs of the suite
    # may share, so each test process uses its own queue name and empties it.
    monkeypatch.setattr("django_q.conf.Conf.CLUSTER_NAME", f"rollcall-test-{os.getpid()}")
    broker = get_broker()
    if isinstance(broker, RedisBroker):
        broker.purge_queue()

    def read() -> list[tuple[str, tuple]]:
        if isinstance(broker, RedisBroker):
            packages = [SignedPackage.loads(raw) for raw in broker.connection.lrange(broker.list_key, 0, -1)]
            return [(package["func"], tuple(package["args"])) for package in packages]
        return [(entry.task["func"], tuple(entry.task["args"])) for entry in OrmQ.objects.order_by("id")]

    yield read
    if isinstance(broker, RedisBroker):
        broker.purge_queue()

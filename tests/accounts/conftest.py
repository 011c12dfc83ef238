import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-test-password")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client

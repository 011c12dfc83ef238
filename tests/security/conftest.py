"""Fixtures of the security tests: users in each role group, and the offboarding fixtures."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.roles import ADMINISTRATOR, OPERATOR, VIEWER
from tests.offboarding.conftest import iam, make_integration, make_user  # noqa: F401

NO_GROUP = "no group"
ROLES = [VIEWER, OPERATOR, ADMINISTRATOR, NO_GROUP]


@pytest.fixture
def staff_user(db):
    """Return a factory of staff users that belong to one role group, or to none."""

    def make(role: str):
        user = get_user_model().objects.create_user(
            username=f"user-{role.replace(' ', '-').lower()}", password="x", is_staff=True
        )
        if role != NO_GROUP:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def role_client(client, staff_user):
    """Return a factory of test clients logged in as a staff user of the given role."""

    def make(role: str):
        client.force_login(staff_user(role))
        return client

    return make

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_admin_user_created_with_generated_password(monkeypatch, capsys):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("ADMIN_USERNAME", "ops")

    call_command("ensure_admin_user")

    output = capsys.readouterr().out
    password = re.search(r"with the password (\S+)", output).group(1)
    user = get_user_model().objects.get(username="ops")
    assert user.is_superuser
    assert user.check_password(password)


def test_admin_user_not_created_twice(monkeypatch, capsys):
    monkeypatch.setenv("ADMIN_PASSWORD", "a-chosen-password-123")
    call_command("ensure_admin_user")
    call_command("ensure_admin_user")

    assert get_user_model().objects.filter(is_superuser=True).count() == 1
    assert "passwords unchanged" in capsys.readouterr().out
    assert get_user_model().objects.get(username="admin").check_password("a-chosen-password-123")

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = (
        "Create the first admin user when no superuser exists, from ADMIN_USERNAME, ADMIN_EMAIL and "
        "ADMIN_PASSWORD; without ADMIN_PASSWORD a password is generated and printed once."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        users = get_user_model()
        existing = list(users.objects.filter(is_superuser=True).values_list("username", flat=True)[:5])
        if existing:
            self.stdout.write(_("Admin users: %(users)s (passwords unchanged).") % {"users": ", ".join(existing)})
            return

        username = os.environ.get("ADMIN_USERNAME") or "admin"
        email = os.environ.get("ADMIN_EMAIL") or "admin@example.com"
        password = os.environ.get("ADMIN_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(16)
        users.objects.create_superuser(username=username, email=email, password=password)

        if generated:
            self.stdout.write(
                _(
                    "Created the admin user %(username)s with the password %(password)s\n"
                    "It is shown only this once: write it down, or set ADMIN_PASSWORD before the first run."
                )
                % {"username": username, "password": password}
            )
        else:
            self.stdout.write(
                _("Created the admin user %(username)s with the password from ADMIN_PASSWORD.") % {"username": username}
            )

"""Rollcall's roles: the permission groups Viewer, Operator and Administrator.

This module is the source of truth for what each group may do. A data migration creates the
groups, and `sync_role_groups` (run after every `migrate`) sets each group's permissions to
exactly the ones listed here, so a group never keeps a permission the code no longer gives it.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

VIEWER = "Viewer"
OPERATOR = "Operator"
ADMINISTRATOR = "Administrator"

# Apps whose every view_* permission the Viewer gets. django_q is included so that everyone
# can see the state of the job queue.
VIEWED_APPS = ("accounts", "integrations", "audit", "django_q")

# Permissions beyond the view_* ones, as "app_label.codename". Each role has those of the one
# before it as well.
_VIEWER_EXTRA = [
    # Exports contain no external ids or credentials, and a Viewer may view everything anyway.
    "accounts.export_accounts",
    "audit.export_auditevent",
]
_OPERATOR_EXTRA = [
    "integrations.sync_integration",
    "accounts.merge_account",
    "accounts.import_people",
    # Importing people and merging into a new person create and change Person rows.
    "accounts.add_person",
    "accounts.change_person",
]
_ADMINISTRATOR_EXTRA = [
    "integrations.add_integration",
    "integrations.change_integration",
    "accounts.offboard_account",
    "accounts.provision_account",
]

EXTRA_PERMISSIONS = {
    VIEWER: _VIEWER_EXTRA,
    OPERATOR: _VIEWER_EXTRA + _OPERATOR_EXTRA,
    ADMINISTRATOR: _VIEWER_EXTRA + _OPERATOR_EXTRA + _ADMINISTRATOR_EXTRA,
}
ROLE_NAMES = tuple(EXTRA_PERMISSIONS)


def _by_label(labels: list[str]) -> Q:
    query = Q(pk__in=[])
    for label in labels:
        app_label, codename = label.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return query


def role_permissions(role: str, *, using: str = "default"):
    """Return the Permission rows that `role` has: every view_* of VIEWED_APPS plus its extras."""
    views = Q(content_type__app_label__in=VIEWED_APPS, codename__startswith="view_")
    return Permission.objects.using(using).filter(views | _by_label(EXTRA_PERMISSIONS[role]))


def sync_role_groups(*, using: str = "default", **kwargs) -> None:
    """Create the role groups if missing and set each one's permissions to those listed here.

    Connected to `post_migrate`, which Django sends once per app, so early calls may find some
    permissions not created yet. The call for the last app finds them all.
    """
    for role in ROLE_NAMES:
        group, _created = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(role_permissions(role, using=using))

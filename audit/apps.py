from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from audit.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, dispatch_uid="audit.sync_role_groups")

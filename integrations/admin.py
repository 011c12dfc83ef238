from django.contrib import admin

from integrations.models import Integration, SyncRun


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "aws_account_id", "status", "checked_at"]
    list_filter = ["status"]
    search_fields = ["name", "aws_account_id", "role_arn"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["integration", "trigger", "status", "queued_at", "finished_at", "seen_count"]
    list_filter = ["status", "trigger"]
    list_select_related = ["integration"]

import csv
import io
import json

from django.contrib import admin
from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.spreadsheet import spreadsheet_safe

EXPORT_PERMISSION = "audit.export_auditevent"
CSV_COLUMNS = [
    "id",
    "occurred_at",
    "actor",
    "job",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "aws_request_id",
]


def _csv_row(event: AuditEvent) -> list[str]:
    return [
        str(event.pk),
        event.occurred_at.isoformat(),
        event.actor.get_username() if event.actor else "",
        event.job,
        event.action,
        event.object_type,
        event.object_id,
        event.object_repr,
        "" if event.before is None else json.dumps(event.before, ensure_ascii=False, sort_keys=True),
        "" if event.after is None else json.dumps(event.after, ensure_ascii=False, sort_keys=True),
        event.aws_request_id,
    ]


def iter_audit_csv(events):
    """Yield the events as CSV text, starting with a byte order mark so that Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=1000):
        writer.writerow([spreadsheet_safe(cell) for cell in _csv_row(event)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "actor", "job", "action", "object_type", "object_repr", "aws_request_id"]
    list_filter = [
        "action",
        "object_type",
        ("actor", admin.RelatedOnlyFieldListFilter),
        "occurred_at",
    ]
    list_select_related = ["actor"]
    search_fields = ["object_repr", "object_id", "aws_request_id", "job"]
    date_hierarchy = "occurred_at"
    actions = ["export_csv"]
    fields = CSV_COLUMNS[1:]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_export_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION)

    @admin.action(description=_("Export selected audit events as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        events = queryset.select_related("actor").order_by("occurred_at", "id")
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in iter_audit_csv(events)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response

"""Writing audit events. Every service that changes data or AWS calls `record_event` in its transaction."""

from typing import Any

from django.db import models

from audit.models import AuditEvent


def record_event(
    *,
    action: str,
    target: models.Model,
    actor=None,
    job: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    aws_request_id: str = "",
) -> AuditEvent:
    """Append one audit event about `target`, made by `actor` (a user) or by `job`."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        job=job,
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        object_repr=str(target)[:300],
        before=before,
        after=after,
        aws_request_id=aws_request_id,
    )

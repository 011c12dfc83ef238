from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Integration(models.Model):
    """One connected service account: for AWS, one AWS account reached through one IAM role."""

    class Service(models.TextChoices):
        AWS = "aws", _("Amazon Web Services")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CONNECTED = "connected", _("Connected")
        FAILED = "failed", _("Failed")
        DISABLED = "disabled", _("Disabled")

    service = models.CharField(_("service"), max_length=20, choices=Service.choices, default=Service.AWS)
    name = models.CharField(_("name"), max_length=200)
    role_arn = models.CharField(_("role ARN"), max_length=2048, unique=True)
    external_id = models.CharField(_("external ID"), max_length=1224, unique=True)
    aws_account_id = models.CharField(_("AWS account ID"), max_length=12, db_index=True)
    contact_information = models.JSONField(_("contact information"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    last_error_code = models.CharField(_("last error code"), max_length=100, blank=True)
    last_error_message = models.TextField(_("last error"), blank=True)
    last_error_fix = models.TextField(_("what to do"), blank=True)
    # What renders the last error in the reader's language: the keyword arguments of
    # `describe_error`, or {"source": "sync", "message": AWS's message} for a failed sync.
    # The message and fix above are the same text in the language active when it was stored.
    last_error_params = models.JSONField(_("last error parameters"), default=dict, blank=True)
    # The result of each step of the last connection check: a list of {"check": name, "ok": bool,
    # "details": [{"code": ..., "params": {...}}]}, rendered by `render_check_detail`.
    checks = models.JSONField(_("connection checks"), default=list, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    # Baseline actions that the role lacks, by IAM action name.
    missing_actions = models.JSONField(_("missing permissions"), default=list, blank=True)
    can_offboard_fully = models.BooleanField(_("has offboarding permissions"), default=False)
    can_collect_fast = models.BooleanField(_("has fast collection permissions"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name", "id"]
        permissions = [("sync_integration", _("Can start a sync or retry the connection check of an integration"))]

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    """One collection run of one integration."""

    class Trigger(models.TextChoices):
        INTEGRATE = "integrate", _("Integrate")
        RETRY = "retry", _("Retry")
        MANUAL = "manual", _("Manual")
        SCHEDULE = "schedule", _("Schedule")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIAL = "partial", _("Partial")
        FAILED = "failed", _("Failed")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    class Strategy(models.TextChoices):
        PER_USER = "per_user", _("Per-user calls")
        BULK = "bulk", _("Bulk calls")

    integration = models.ForeignKey(
        Integration, verbose_name=_("integration"), on_delete=models.CASCADE, related_name="sync_runs"
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices, blank=True)
    queued_at = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    seen_count = models.PositiveIntegerField(_("seen"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    removed_count = models.PositiveIntegerField(_("removed"), default=0)
    aws_calls = models.PositiveIntegerField(_("AWS API calls"), default=0)
    throttled_retries = models.PositiveIntegerField(_("throttled retries"), default=0)
    # A list of {"code": ..., "message": ..., "action": IAM action or ""}.
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    # Parameters of a Rollcall error code (such as JobTimedOut) that render the message at display time.
    error_params = models.JSONField(_("error parameters"), default=dict, blank=True)
    task_id = models.CharField(_("job id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_sync_run_per_integration",
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration} #{self.pk}"

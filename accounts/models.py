from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from integrations.models import Integration


class Person(models.Model):
    """One person in the company's directory (the employee master)."""

    class Kind(models.TextChoices):
        EMPLOYEE = "employee", _("Employee")
        GUEST = "guest", _("Guest or contractor")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ON_LEAVE = "on_leave", _("On leave")
        LEFT = "left", _("Left")

    email = models.EmailField(_("email"), max_length=254)
    name = models.CharField(_("name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.EMPLOYEE)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="person_email_unique_ci")]
        permissions = [("import_people", _("Can import people from a CSV file"))]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class SaaSAccount(models.Model):
    """An account inside an integration: for AWS, an IAM user or an IAM role, keyed by its IAM id."""

    class Kind(models.TextChoices):
        IAM_USER = "iam_user", _("IAM user")
        IAM_ROLE = "iam_role", _("IAM role")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REMOVED = "removed", _("Removed")
        OFFBOARDING = "offboarding", _("Offboarding")
        OFFBOARDED = "offboarded", _("Offboarded")

    class UserType(models.TextChoices):
        EMPLOYEE = "employee", _("Employee")
        GUEST = "guest", _("Guest")
        SYSTEM = "system", _("System")
        UNKNOWN = "unknown", _("Unknown")

    class EmailSource(models.TextChoices):
        NONE = "", _("None")
        TAG = "tag", _("Email tag")
        MERGE = "merge", _("Merge")
        USERNAME = "username", _("User name")

    class LinkDecision(models.TextChoices):
        """Whether a person decided the link, so that a sync leaves it as it is."""

        NONE = "", _("Decided by sync")
        MERGED = "merged", _("Merged by a person")
        UNMERGED = "unmerged", _("Unmerged by a person")

    integration = models.ForeignKey(
        Integration, verbose_name=_("integration"), on_delete=models.PROTECT, related_name="accounts"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The stable IAM id (AIDA... for users, AROA... for roles), never the name.
    provider_id = models.CharField(_("IAM ID"), max_length=128)
    name = models.CharField(_("name"), max_length=128, db_index=True)
    arn = models.CharField(_("ARN"), max_length=2048, db_index=True)
    path = models.CharField(_("path"), max_length=512, default="/")
    created_in_service = models.DateTimeField(_("created in AWS"), null=True, blank=True)

    # Collected evidence. None means "could not be read" (for example AccessDenied on the sub-call),
    # which the admin shows as unknown, never as "no".
    has_console_password = models.BooleanField(_("console password"), null=True, blank=True)
    password_last_used = models.DateTimeField(_("console password last used"), null=True, blank=True)
    mfa_enabled = models.BooleanField(_("MFA"), null=True, blank=True)
    mfa_devices = models.JSONField(_("MFA devices"), null=True, blank=True)
    groups = models.JSONField(_("groups"), null=True, blank=True)
    attached_policies = models.JSONField(_("attached policies"), null=True, blank=True)
    inline_policies = models.JSONField(_("inline policies"), null=True, blank=True)
    tags = models.JSONField(_("tags"), null=True, blank=True)
    trusted_principals = models.JSONField(_("trusted principals"), null=True, blank=True)
    service_linked = models.BooleanField(_("service-linked role"), default=False)
    # Names of the fields above that the last sync could not read, with the missing IAM action.
    unreadable = models.JSONField(_("unreadable fields"), default=dict, blank=True)
    last_activity = models.DateTimeField(_("last activity"), null=True, blank=True, db_index=True)

    first_seen = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)

    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    link_decision = models.CharField(
        _("link decided by"), max_length=20, choices=LinkDecision.choices, default="", blank=True
    )
    email = models.EmailField(_("email"), blank=True, db_index=True)
    email_source = models.CharField(
        _("email source"), max_length=20, choices=EmailSource.choices, default="", blank=True
    )
    email_warning = models.CharField(_("email warning"), max_length=300, blank=True)
    user_type = models.CharField(
        _("user type"), max_length=20, choices=UserType.choices, default=UserType.UNKNOWN, db_index=True
    )
    # A code from accounts.user_types.REASONS and its parameters, rendered in the reader's language.
    user_type_reason = models.CharField(_("why this user type"), max_length=50, blank=True)
    user_type_reason_params = models.JSONField(_("reason details"), default=dict, blank=True)
    # Set when a person chose the user type by hand; a sync then leaves it as it is.
    user_type_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user type set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["integration", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["integration", "provider_id"], name="account_unique_iam_id")]
        # The account list's order, so a page of it is read from the index instead of a full sort.
        indexes = [models.Index(fields=["integration", "name", "id"], name="account_list_order")]
        permissions = [
            ("merge_account", _("Can merge accounts into people, unmerge them and accept suggested merges")),
            ("export_accounts", _("Can export accounts as CSV or JSON")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def user_type_reason_text(self) -> str:
        from accounts.user_types import describe_reason

        return describe_reason(self.user_type_reason, self.user_type_reason_params)


class AccessKey(models.Model):
    """An IAM user's access key, as last collected."""

    class Status(models.TextChoices):
        ACTIVE = "Active", _("Active")
        INACTIVE = "Inactive", _("Inactive")

    account = models.ForeignKey(
        SaaSAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="access_keys"
    )
    access_key_id = models.CharField(_("access key ID"), max_length=128, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    created = models.DateTimeField(_("created"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_service = models.CharField(_("last used service"), max_length=100, blank=True)
    last_used_region = models.CharField(_("last used region"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("access key")
        verbose_name_plural = _("access keys")
        ordering = ["access_key_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "access_key_id"], name="access_key_unique_per_account")
        ]

    def __str__(self) -> str:
        return self.access_key_id


class MergeRecord(models.Model):
    """One merge of one account into a person, with the account's state before it, so it can be undone."""

    account = models.ForeignKey(
        SaaSAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="merge_records"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("merged into"), on_delete=models.PROTECT, related_name="merge_records"
    )
    previous_person = models.ForeignKey(
        Person,
        verbose_name=_("previous person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    previous_email = models.EmailField(_("previous email"), blank=True)
    previous_email_source = models.CharField(_("previous email source"), max_length=20, blank=True)
    previous_link_decision = models.CharField(_("previous link decision"), max_length=20, blank=True)
    previous_user_type = models.CharField(_("previous user type"), max_length=20, blank=True)
    previous_user_type_reason = models.CharField(_("previous user type reason"), max_length=50, blank=True)
    previous_user_type_reason_params = models.JSONField(_("previous reason details"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged"), auto_now_add=True)
    undone_at = models.DateTimeField(_("unmerged"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("unmerged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merge history")
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account} → {self.person}"


class Offboarding(models.Model):
    """A planned, confirmed removal of one account, run as a job of ordered steps."""

    class Mode(models.TextChoices):
        DELETE = "delete", _("Full deletion")
        CONTAIN = "contain", _("Containment")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    account = models.ForeignKey(
        SaaSAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="offboardings"
    )
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED, db_index=True)
    # What the plan was built from and what it found: {"blockers": [...], "warnings": [...]}. Each
    # blocker is {"code", "action", "count"}: a dependent resource and the IAM action that removes it.
    plan = models.JSONField(_("plan"), default=dict, blank=True)
    # The account as AWS returned it when the plan was built: policies, groups, tags, key ids, MFA serials.
    snapshot = models.JSONField(_("snapshot"), default=dict, blank=True)
    # The account status before the offboarding started, restored when a run fails.
    previous_account_status = models.CharField(_("account status before"), max_length=20, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The job that asked for it when no person did, such as "manage.py offboard".
    requested_by_job = models.CharField(_("requested by job"), max_length=200, blank=True)
    planned_at = models.DateTimeField(_("planned"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    current_step = models.PositiveIntegerField(_("current step"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("offboarding")
        verbose_name_plural = _("offboardings")
        ordering = ["-planned_at", "-id"]
        permissions = [("offboard_account", _("Can plan, confirm, retry and cancel offboardings"))]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_offboarding_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} ({self.get_mode_display()}) #{self.pk}"

    @property
    def blockers(self) -> list[dict]:
        return self.plan.get("blockers", [])

    @property
    def warnings(self) -> list[dict]:
        return self.plan.get("warnings", [])

    @property
    def is_blocked(self) -> bool:
        return bool(self.blockers)


class OffboardingStep(models.Model):
    """One AWS API call of an offboarding, with the request sent and the result returned."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    FINISHED_STATUSES = (Status.DONE, Status.SKIPPED)

    offboarding = models.ForeignKey(
        Offboarding, verbose_name=_("offboarding"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveIntegerField(_("position"))
    # The IAM API action, such as "DeleteAccessKey", and its request parameters.
    action = models.CharField(_("action"), max_length=100)
    parameters = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    request = models.JSONField(_("request"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    aws_request_id = models.CharField(_("AWS request id"), max_length=100, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("offboarding step")
        verbose_name_plural = _("offboarding steps")
        ordering = ["offboarding", "position"]
        constraints = [
            models.UniqueConstraint(fields=["offboarding", "position"], name="offboarding_step_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.action}"


class Provisioning(models.Model):
    """Creating an account for a person: for AWS, CreateUser then TagUser with the person's email."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="provisionings")
    integration = models.ForeignKey(
        Integration, verbose_name=_("integration"), on_delete=models.PROTECT, related_name="provisionings"
    )
    user_name = models.CharField(_("user name"), max_length=64)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    account = models.ForeignKey(
        SaaSAccount,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="provisionings",
    )
    # The calls made, in order: [{"action", "request", "result" or "error", "aws_request_id"}].
    calls = models.JSONField(_("AWS calls"), default=list, blank=True)
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("provisioning")
        verbose_name_plural = _("provisionings")
        ordering = ["-created_at", "-id"]
        permissions = [("provision_account", _("Can create accounts for people in a service"))]

    def __str__(self) -> str:
        return f"{self.user_name} ({self.integration})"

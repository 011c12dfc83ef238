"""Admin of integrations: the AWS setup page, the tabbed integration page and its actions.

The add view is the setup page and the change view is a page with the tabs Status, Settings,
Accounts and Setup guide. Every action calls a service in integrations.services. Permissions are
the model permissions: view_integration to see, change_integration to edit, retry, sync, enable
and disable, and add_integration to integrate.
"""

import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.models import SaaSAccount
from integrations.connectors.aws import errors as aws_errors
from integrations.connectors.aws.client import AwsError, platform_account_id
from integrations.connectors.aws.connection import parse_role_arn
from integrations.connectors.aws.setup import build_setup_documents, generate_external_id
from integrations.forms import IntegrationForm, external_id_warning
from integrations.models import Integration, SyncRun
from integrations.services.collection import render_run_error, render_run_warnings
from integrations.services.connection import (
    CHECK_ASSUME_ROLE,
    CHECK_CONTACT_INFORMATION,
    CHECK_PERMISSIONS,
    CHECK_TRUST_POLICY,
    RECOMMENDED_EXTERNAL_ID_LENGTH,
    IntegrateOutcome,
    delete_integration,
    describe_last_error,
    integrate_aws,
    render_check_detail,
    retry_integration,
    set_integration_enabled,
    update_integration_settings,
)
from integrations.services.sync_queue import SyncAlreadyRunning, SyncNotAllowed, active_run, queue_sync

logger = logging.getLogger(__name__)

SETUP_EXTERNAL_ID_SESSION_KEY = "integrations:setup-external-id"
RUN_HISTORY_LIMIT = 20
ACCOUNTS_SHOWN = 50
TABS = ("status", "settings", "accounts", "setup")
# Sync now and Retry need this permission; enabling, disabling and editing need change_integration.
SYNC_PERMISSION = "integrations.sync_integration"

# Downloadable setup files: name in the URL -> (attribute of SetupDocuments, file name, media type).
SETUP_FILES = {
    "cloudformation.yaml": ("cloudformation", "rollcall-role.yaml", "application/x-yaml"),
    "cloudformation-extended.yaml": (
        "cloudformation_extended",
        "rollcall-role-extended.yaml",
        "application/x-yaml",
    ),
    "terraform.tf": ("terraform", "rollcall-role.tf", "text/plain"),
    "terraform-extended.tf": ("terraform_extended", "rollcall-role-extended.tf", "text/plain"),
}


def check_labels() -> dict[str, str]:
    return {
        CHECK_ASSUME_ROLE: _("Assume the role with the external ID"),
        CHECK_TRUST_POLICY: _("Trust policy"),
        CHECK_PERMISSIONS: _("Permissions"),
        CHECK_CONTACT_INFORMATION: _("Contact information"),
    }


def _platform_account(request) -> tuple[str, aws_errors.ErrorDescription | None]:
    """Return the platform account id, or "" and what is wrong when it cannot be found."""
    try:
        return platform_account_id(), None
    except AwsError as error:
        logger.warning("Could not find the platform account id: %s", error.code)
        return "", aws_errors.describe_aws_error(error)


def _setup_file_urls(url_name: str, *args) -> dict[str, str]:
    return {
        attribute: reverse(url_name, args=[*args, file_name])
        for file_name, (attribute, _download_name, _media_type) in SETUP_FILES.items()
    }


def _setup_documents(account_id: str, external_id: str, role_arn: str = ""):
    """Build the setup documents, with the role's name and partition once the role ARN is known."""
    role = parse_role_arn(role_arn) if role_arn else None
    if role is None:
        return build_setup_documents(platform_account_id=account_id, external_id=external_id)
    return build_setup_documents(
        platform_account_id=account_id, external_id=external_id, role_name=role.name, partition=role.partition
    )


def _setup_context(request, external_id: str, role_arn: str = "") -> dict:
    account_id, problem = _platform_account(request)
    documents = _setup_documents(account_id, external_id, role_arn) if account_id else None
    return {"platform_account_id": account_id, "platform_problem": problem, "documents": documents}


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "aws_account_id", "status", "checked_at"]
    list_filter = ["status"]
    search_fields = ["name", "aws_account_id", "role_arn"]

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("setup/<str:file_name>", wrap(self.setup_file_view), name="{}_{}_setup_file".format(*info)),
            path("<path:object_id>/retry/", wrap(self.retry_view), name="{}_{}_retry".format(*info)),
            path("<path:object_id>/sync/", wrap(self.sync_view), name="{}_{}_sync".format(*info)),
            path("<path:object_id>/enable/", wrap(self.enable_view), name="{}_{}_enable".format(*info)),
            path("<path:object_id>/disable/", wrap(self.disable_view), name="{}_{}_disable".format(*info)),
            path("<path:object_id>/progress/", wrap(self.progress_view), name="{}_{}_progress".format(*info)),
            path(
                "<path:object_id>/setup/<str:file_name>",
                wrap(self.integration_setup_file_view),
                name="{}_{}_integration_setup_file".format(*info),
            ),
            *super().get_urls(),
        ]

    def delete_model(self, request, obj):
        delete_integration(integration=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for integration in queryset:
            delete_integration(integration=integration, actor=request.user)

    # Helpers.
    def _get_integration(self, request, object_id: str, *, change: bool, permission: str = "") -> Integration:
        integration = self.get_object(request, object_id)
        if integration is None:
            raise Http404(_("No integration with id %(id)s exists.") % {"id": object_id})
        if permission:
            allowed = request.user.has_perm(permission)
        elif change:
            allowed = self.has_change_permission(request, integration)
        else:
            allowed = self.has_view_or_change_permission(request, integration)
        if not allowed:
            raise PermissionDenied
        return integration

    def _status_url(self, integration: Integration) -> str:
        return reverse("admin:integrations_integration_change", args=[integration.pk]) + "#status"

    def _report_outcome(self, request, outcome: IntegrateOutcome | None) -> None:
        if outcome is None:
            return
        integration = outcome.integration
        if outcome.result.ok and outcome.sync_skipped_reason:
            messages.warning(request, outcome.sync_skipped_reason)
        elif outcome.result.ok:
            messages.success(
                request,
                _("The connection check passed for “%(name)s”, and a sync is queued.") % {"name": integration.name},
            )
        else:
            messages.error(
                request,
                _("The connection check failed for “%(name)s”: %(error)s")
                % {"name": integration.name, "error": describe_last_error(integration).message},
            )
        if len(integration.external_id) < RECOMMENDED_EXTERNAL_ID_LENGTH:
            messages.warning(request, external_id_warning(integration.external_id))

    # Setup page.
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        external_id = request.session.get(SETUP_EXTERNAL_ID_SESSION_KEY)
        if not external_id:
            external_id = generate_external_id()
            request.session[SETUP_EXTERNAL_ID_SESSION_KEY] = external_id

        if request.method == "POST":
            form = IntegrationForm(request.POST)
            if form.is_valid():
                try:
                    outcome = integrate_aws(actor=request.user, **form.cleaned_data)
                except IntegrityError:
                    form.add_error(
                        "role_arn", _("This role or external ID was integrated a moment ago by someone else.")
                    )
                else:
                    request.session.pop(SETUP_EXTERNAL_ID_SESSION_KEY, None)
                    self.log_addition(request, outcome.integration, [{"added": {}}])
                    self._report_outcome(request, outcome)
                    return HttpResponseRedirect(self._status_url(outcome.integration))
        else:
            form = IntegrationForm(initial={"external_id": external_id})

        context = {
            **self.admin_site.each_context(request),
            **_setup_context(request, external_id),
            "opts": self.opts,
            "title": _("Integrate an AWS account"),
            "form": form,
            "external_id": external_id,
            "setup_file_urls": _setup_file_urls("admin:integrations_integration_setup_file"),
            "recommended_external_id_length": RECOMMENDED_EXTERNAL_ID_LENGTH,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/integrations/integration/setup.html", context)

    @staticmethod
    def _setup_file_response(external_id: str, file_name: str, role_arn: str = "") -> HttpResponse:
        if file_name not in SETUP_FILES:
            raise Http404(_("No setup file named %(name)s exists.") % {"name": file_name})
        try:
            account_id = platform_account_id()
        except AwsError as error:
            return HttpResponse(aws_errors.describe_aws_error(error).message, status=503, content_type="text/plain")
        attribute, download_name, media_type = SETUP_FILES[file_name]
        documents = _setup_documents(account_id, external_id, role_arn)
        response = HttpResponse(getattr(documents, attribute), content_type=f"{media_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{download_name}"'
        return response

    def setup_file_view(self, request, file_name: str):
        """Download a setup file for the external id of the setup page in this session."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        external_id = request.session.get(SETUP_EXTERNAL_ID_SESSION_KEY)
        if not external_id:
            raise Http404(_("Open the setup page first: it generates the external ID for these files."))
        return self._setup_file_response(external_id, file_name)

    def integration_setup_file_view(self, request, object_id: str, file_name: str):
        integration = self._get_integration(request, object_id, change=False)
        return self._setup_file_response(integration.external_id, file_name, integration.role_arn)

    # Integration page with tabs.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        integration = self._get_integration(request, object_id, change=False)
        can_change = self.has_change_permission(request, integration)
        active_tab = "status"

        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            form = IntegrationForm(request.POST, instance=integration)
            if form.is_valid():
                outcome = update_integration_settings(integration=integration, actor=request.user, **form.cleaned_data)
                self.log_change(request, integration, [{"changed": {"fields": form.changed_data}}])
                if outcome is None:
                    messages.success(request, _("The settings were saved."))
                self._report_outcome(request, outcome)
                return HttpResponseRedirect(self._status_url(integration))
            active_tab = "settings"
        else:
            form = IntegrationForm(
                instance=integration,
                initial={
                    "name": integration.name,
                    "role_arn": integration.role_arn,
                    "external_id": integration.external_id,
                },
            )
        if not can_change:
            for field in form.fields.values():
                field.disabled = True

        context = {
            **self.admin_site.each_context(request),
            **self._status_context(integration),
            **_setup_context(request, integration.external_id, integration.role_arn),
            "opts": self.opts,
            "original": integration,
            "title": integration.name,
            "integration": integration,
            "form": form,
            "can_change": can_change,
            "can_sync": request.user.has_perm(SYNC_PERMISSION),
            "active_tab": active_tab,
            "tabs": TABS,
            "external_id": integration.external_id,
            "setup_file_urls": _setup_file_urls(
                "admin:integrations_integration_integration_setup_file", integration.pk
            ),
            "recommended_external_id_length": RECOMMENDED_EXTERNAL_ID_LENGTH,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/integrations/integration/integration.html", context)

    def _status_context(self, integration: Integration) -> dict:
        labels = check_labels()
        checks = [
            {**check, "label": labels.get(check.get("check"), check.get("check")), "text": render_check_detail(check)}
            for check in integration.checks
        ]
        runs = list(integration.sync_runs.order_by("-queued_at", "-id")[:RUN_HISTORY_LIMIT])
        for run in runs:
            run.error_text = render_run_error(run)
            run.warning_texts = render_run_warnings(run)
        running = next((run for run in runs if run.status in SyncRun.ACTIVE_STATUSES), None)
        accounts = SaaSAccount.objects.filter(integration=integration).order_by("name", "id")
        inferred = next(
            (
                check.get("inferred_actions", [])
                for check in integration.checks
                if check.get("check") == CHECK_PERMISSIONS
            ),
            [],
        )
        return {
            "checks": checks,
            "last_error": describe_last_error(integration),
            "runs": runs,
            "running": running,
            "inferred_actions": inferred,
            "permissions_checked": any(check.get("check") == CHECK_PERMISSIONS for check in integration.checks),
            "account_count": accounts.count(),
            "accounts": list(accounts[:ACCOUNTS_SHOWN]),
            "accounts_url": reverse("admin:accounts_saasaccount_changelist")
            + f"?integration__id__exact={integration.pk}",
            "short_external_id": len(integration.external_id) < RECOMMENDED_EXTERNAL_ID_LENGTH,
            "external_id_warning": external_id_warning(integration.external_id),
        }

    # Actions.
    def retry_view(self, request, object_id: str):
        return self._action(request, object_id, self._retry, permission=SYNC_PERMISSION)

    def sync_view(self, request, object_id: str):
        return self._action(request, object_id, self._sync_now, permission=SYNC_PERMISSION)

    def enable_view(self, request, object_id: str):
        return self._action(request, object_id, self._enable)

    def disable_view(self, request, object_id: str):
        return self._action(request, object_id, self._disable)

    def _action(self, request, object_id: str, handler, *, permission: str = ""):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        integration = self._get_integration(request, object_id, change=True, permission=permission)
        try:
            handler(request, integration)
        except SyncAlreadyRunning as error:
            messages.warning(request, str(error))
        except SyncNotAllowed as error:
            messages.error(request, str(error))
        return HttpResponseRedirect(self._status_url(integration))

    def _retry(self, request, integration: Integration) -> None:
        outcome = retry_integration(integration=integration, actor=request.user)
        self._report_outcome(request, outcome)

    def _sync_now(self, request, integration: Integration) -> None:
        run = queue_sync(integration=integration, trigger=SyncRun.Trigger.MANUAL, actor=request.user)
        messages.success(request, _("Sync run %(run)s is queued.") % {"run": run.pk})

    def _enable(self, request, integration: Integration) -> None:
        outcome = set_integration_enabled(integration=integration, enabled=True, actor=request.user)
        if outcome is None:
            messages.info(request, _("The integration is already enabled."))
        self._report_outcome(request, outcome)

    def _disable(self, request, integration: Integration) -> None:
        set_integration_enabled(integration=integration, enabled=False, actor=request.user)
        messages.success(request, _("The integration is disabled. It is kept, but not synced."))

    def progress_view(self, request, object_id: str):
        """Return the integration's status and its latest sync run as JSON, for the progress bar."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        integration = self._get_integration(request, object_id, change=False)
        run = active_run(integration) or integration.sync_runs.order_by("-queued_at", "-id").first()
        payload = {"integration": {"status": integration.status, "status_display": integration.get_status_display()}}
        if run is not None:
            payload["run"] = {
                "id": run.pk,
                "status": run.status,
                "status_display": run.get_status_display(),
                "active": run.status in SyncRun.ACTIVE_STATUSES,
                "done": run.progress_done,
                "total": run.progress_total,
                "seen": run.seen_count,
            }
        return JsonResponse(payload)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """Sync runs are written only by the sync job, so the admin shows them read-only."""

    list_display = ["integration", "trigger", "status", "queued_at", "finished_at", "seen_count"]
    list_filter = ["status", "trigger"]
    list_select_related = ["integration"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

"""Offboarding and provisioning admin: mixins for the account and person admins, and their own admins.

Every AWS-changing page shows the exact plan first and runs only on a second POST with a confirm
flag. Views re-check permissions on the server and call the services in `services.py`.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.admin_views import parse_ids
from accounts.models import Offboarding, OffboardingStep, Person, Provisioning, SaaSAccount
from accounts.offboarding import planning, services
from integrations.models import Integration

OFFBOARD_PERMISSION = "accounts.offboard_account"
RETRY_PERMISSION = "accounts.offboard_account"
PROVISION_PERMISSION = "accounts.provision_account"


MODE_HELP = {
    Offboarding.Mode.DELETE: _("Remove everything the user or role depends on, then delete it."),
    Offboarding.Mode.CONTAIN: _(
        "Remove every credential (console password, access keys, SSH public keys, service-specific credentials, "
        "signing certificates) and every permission (policies and group memberships), but keep the user or role. "
        "The plan warns about each one that the integration's role may not remove."
    ),
}


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _parse_ids(raw: str) -> list[int]:
    return parse_ids(raw.split(","))


def _with_section(response, *, template: str, context: dict):
    """Render an admin change page through `template`, which extends the page's own template.

    The page's template may be a list of candidates, so it is resolved first and handed to
    `{% extends %}` as a template object.
    """
    if not isinstance(response, TemplateResponse) or response.context_data.get("original") is None:
        return response
    names = response.template_name
    base = select_template([names] if isinstance(names, str) else list(names))
    response.context_data["offboarding_base_template"] = base.template
    response.context_data.update(context)
    response.template_name = template
    return response


def plan_accounts(request, accounts, *, mode: str) -> list[Offboarding]:
    """Plan an offboarding for each account, reporting each failure as an admin message."""
    planned = []
    for account in accounts:
        try:
            planned.append(services.plan_offboarding(account=account, mode=mode, actor=request.user))
        except services.OffboardingError as error:
            messages.error(request, error.message)
    return planned


def confirm_url(offboardings) -> str:
    ids = ",".join(str(offboarding.pk) for offboarding in offboardings)
    return f"{reverse('admin:accounts_saasaccount_offboard_confirm')}?ids={ids}"


def _with_offboard_action(model_admin, request, actions: dict, name: str, action_location) -> dict:
    """Add the action `name` to `actions` when the user may offboard."""
    action = model_admin.get_action(name, action_location)
    if action is not None and request.user.has_perm(OFFBOARD_PERMISSION):
        actions[action.name] = action
    return actions


class SaaSAccountOffboardingAdminMixin:
    """Add "Offboard…" to the account admin: an action, a section on the account page and the plan page."""

    offboarding_change_form_template = "admin/accounts/offboarding/account_change_form.html"

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        return _with_offboard_action(self, request, actions, "offboard_accounts", action_location)

    @admin.action(
        description=_("Offboard…"),
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def offboard_accounts(self, request, queryset):
        _require(request, OFFBOARD_PERMISSION)
        accounts = queryset.select_related("integration")
        planned = plan_accounts(request, accounts, mode=Offboarding.Mode.DELETE)
        if not planned:
            return None
        return HttpResponseRedirect(confirm_url(planned))

    def get_urls(self):
        return [
            path(
                "offboard/plan/",
                self.admin_site.admin_view(require_POST(self.offboard_plan_view)),
                name="accounts_saasaccount_offboard_plan",
            ),
            path(
                "offboard/confirm/",
                self.admin_site.admin_view(self.offboard_confirm_view),
                name="accounts_saasaccount_offboard_confirm",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = response.context_data.get("original") if hasattr(response, "context_data") else None
        if original is None:
            return response
        return _with_section(
            response,
            template=self.offboarding_change_form_template,
            context={
                "offboardings": original.offboardings.select_related("requested_by").order_by("-planned_at")[:10],
                "can_offboard": request.user.has_perm(OFFBOARD_PERMISSION),
                "offboard_protected": services.protected_reason(original),
            },
        )

    def offboard_plan_view(self, request):
        """Plan (or plan again) the offboarding of the posted accounts in the posted mode."""
        _require(request, OFFBOARD_PERMISSION)
        mode = request.POST.get("mode", Offboarding.Mode.DELETE)
        if mode not in Offboarding.Mode.values:
            messages.error(request, gettext("Invalid mode %(mode)s: choose delete or contain.") % {"mode": mode})
            return HttpResponseRedirect(reverse("admin:accounts_saasaccount_changelist"))
        ids = parse_ids(request.POST.getlist("account"))
        accounts = SaaSAccount.objects.filter(pk__in=ids).select_related("integration")
        planned = plan_accounts(request, accounts, mode=mode)
        if not planned:
            return HttpResponseRedirect(reverse("admin:accounts_saasaccount_changelist"))
        return HttpResponseRedirect(confirm_url(planned))

    def offboard_confirm_view(self, request):
        """Show the planned offboardings; a POST with confirm=yes starts them when every plan passes.

        A plan that another person confirms between the check and the start is reported on its own.
        """
        _require(request, OFFBOARD_PERMISSION)
        source = request.POST if request.method == "POST" else request.GET
        ids = _parse_ids(source.get("ids", ""))
        offboardings = list(
            Offboarding.objects.filter(pk__in=ids)
            .select_related("account__integration", "account__person")
            .prefetch_related("steps")
            .order_by("account__integration__name", "account__name")
        )
        if not offboardings:
            messages.error(request, gettext("No planned offboarding was found. Choose the accounts again."))
            return HttpResponseRedirect(reverse("admin:accounts_saasaccount_changelist"))
        if source.get("format") == "json":
            return export_plans(offboardings)

        errors: dict[int, str] = {}
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            typed = {o.pk: request.POST.get(f"confirm_name_{o.pk}", "") for o in offboardings}
            errors = precheck(offboardings, typed)
            if not errors:
                started = []
                for offboarding in offboardings:
                    try:
                        started.append(
                            services.start_offboarding(
                                offboarding=offboarding, typed_name=typed[offboarding.pk], actor=request.user
                            )
                        )
                    except services.OffboardingError as error:
                        messages.error(request, error.message)
                if started:
                    messages.success(
                        request,
                        gettext("Started %(count)s offboarding(s). Each step is recorded below as it runs.")
                        % {"count": len(started)},
                    )
                ids_text = ",".join(str(o.pk) for o in offboardings)
                return HttpResponseRedirect(f"{reverse('admin:accounts_offboarding_changelist')}?id__in={ids_text}")

        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Offboarding plan"),
            "opts": SaaSAccount._meta,
            "plans": [describe(offboarding, errors.get(offboarding.pk, "")) for offboarding in offboardings],
            "ids": ",".join(str(o.pk) for o in offboardings),
            "account_ids": [o.account_id for o in offboardings],
            "can_run": all(o.status == Offboarding.Status.PLANNED and not o.is_blocked for o in offboardings),
            "any_blocked": any(o.is_blocked for o in offboardings),
            "any_delete": any(o.mode == Offboarding.Mode.DELETE for o in offboardings),
            "mode_help": MODE_HELP,
        }
        return TemplateResponse(request, "admin/accounts/offboarding/confirm.html", context)


def precheck(offboardings: list[Offboarding], typed: dict[int, str]) -> dict[int, str]:
    """Return the reason each offboarding cannot start, by id, before any of them starts."""
    errors = {}
    for offboarding in offboardings:
        name = offboarding.account.name
        if offboarding.status != Offboarding.Status.PLANNED:
            errors[offboarding.pk] = gettext(
                "This plan is %(status)s and can no longer be confirmed. Plan it again."
            ) % {"status": offboarding.get_status_display()}
        elif offboarding.is_blocked:
            errors[offboarding.pk] = gettext("This plan has blockers. Fix them or plan containment.")
        elif offboarding.mode == Offboarding.Mode.DELETE and typed.get(offboarding.pk, "").strip() != name:
            errors[offboarding.pk] = gettext("Type %(name)s exactly to confirm its deletion.") % {"name": name}
    return errors


def describe(offboarding: Offboarding, error: str = "") -> dict:
    """Return what the plan page shows for one offboarding."""
    return {
        "offboarding": offboarding,
        "account": offboarding.account,
        "steps": [
            {
                "position": step.position,
                "action": step.action,
                "parameters_text": json.dumps(step.parameters, sort_keys=True),
                "get_status_display": step.get_status_display(),
            }
            for step in offboarding.steps.all()
        ],
        "blockers": [planning.render(entry) for entry in offboarding.blockers],
        "warnings": [planning.render(entry) for entry in offboarding.warnings],
        "snapshot": json.dumps(offboarding.snapshot, indent=2, sort_keys=True),
        "error": error,
    }


def export_plans(offboardings: list[Offboarding]) -> JsonResponse:
    """Return the plans as JSON, for a dry run that changes nothing."""
    return JsonResponse(
        {"offboardings": [plan_as_data(offboarding) for offboarding in offboardings]},
        json_dumps_params={"indent": 2},
    )


def plan_as_data(offboarding: Offboarding) -> dict:
    account = offboarding.account
    return {
        "offboarding": offboarding.pk,
        "account": {"id": account.pk, "name": account.name, "arn": account.arn, "kind": account.kind},
        "integration": account.integration.name,
        "mode": offboarding.mode,
        "status": offboarding.status,
        "steps": [
            {
                "position": step.position,
                "action": step.action,
                "parameters": step.parameters,
                "status": step.status,
            }
            for step in offboarding.steps.all()
        ],
        "blockers": [{**entry, "message": planning.render(entry)} for entry in offboarding.blockers],
        "warnings": [{**entry, "message": planning.render(entry)} for entry in offboarding.warnings],
    }


class ProvisionIamUserForm(forms.Form):
    integration = forms.ModelChoiceField(
        label=_("Integration"),
        queryset=Integration.objects.filter(service=Integration.Service.AWS).exclude(
            status=Integration.Status.DISABLED
        ),
    )
    user_name = forms.CharField(
        label=_("IAM user name"),
        max_length=64,
        help_text=_("1 to 64 letters, digits and + = , . @ _ -, unique in the AWS account."),
    )

    def clean_user_name(self):
        try:
            return services.validate_iam_user_name(self.cleaned_data["user_name"])
        except services.OffboardingError as error:
            raise forms.ValidationError(error.message) from error


class PersonOffboardingAdminMixin:
    """Add "Offboard all accounts" and "Create AWS IAM user" to the person admin."""

    offboarding_change_form_template = "admin/accounts/offboarding/person_change_form.html"

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        return _with_offboard_action(self, request, actions, "offboard_all_accounts", action_location)

    @admin.action(
        description=_("Offboard all accounts"),
        location=[admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM],
    )
    def offboard_all_accounts(self, request, queryset):
        _require(request, OFFBOARD_PERMISSION)
        accounts = SaaSAccount.objects.filter(person__in=queryset, status=SaaSAccount.Status.ACTIVE).select_related(
            "integration"
        )
        if not accounts:
            messages.warning(request, gettext("The selected people have no active accounts to offboard."))
            return None
        planned = plan_accounts(request, accounts, mode=Offboarding.Mode.DELETE)
        if not planned:
            return None
        return HttpResponseRedirect(confirm_url(planned))

    def get_urls(self):
        return [
            path(
                "<int:person_id>/create-iam-user/",
                self.admin_site.admin_view(self.create_iam_user_view),
                name="accounts_person_create_iam_user",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = response.context_data.get("original") if hasattr(response, "context_data") else None
        if original is None:
            return response
        return _with_section(
            response,
            template=self.offboarding_change_form_template,
            context={
                "active_accounts": list(services.accounts_to_offboard(person=original)),
                "can_offboard": request.user.has_perm(OFFBOARD_PERMISSION),
                "can_provision": request.user.has_perm(PROVISION_PERMISSION),
            },
        )

    def create_iam_user_view(self, request, person_id: int):
        """Show the CreateUser and TagUser calls for a person; a POST with confirm=yes makes them."""
        _require(request, PROVISION_PERMISSION)
        person = get_object_or_404(Person, pk=person_id)
        form = ProvisionIamUserForm(request.POST or None)
        confirming = False
        if request.method == "POST" and form.is_valid():
            integration = form.cleaned_data["integration"]
            user_name = form.cleaned_data["user_name"]
            if request.POST.get("confirm") == "yes":
                try:
                    account = services.provision_iam_user(
                        person=person, integration=integration, user_name=user_name, actor=request.user
                    )
                except services.OffboardingError as error:
                    form.add_error(None, error.message)
                else:
                    messages.success(
                        request,
                        gettext("Created the IAM user %(name)s in %(integration)s and linked it to %(person)s.")
                        % {"name": account.name, "integration": integration.name, "person": person.email},
                    )
                    return HttpResponseRedirect(reverse("admin:accounts_saasaccount_change", args=[account.pk]))
            else:
                confirming = True
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Create AWS IAM user for %(person)s") % {"person": person},
            "opts": Person._meta,
            "original": person,
            "person": person,
            "form": form,
            "confirming": confirming,
        }
        return TemplateResponse(request, "admin/accounts/offboarding/create_iam_user.html", context)


class OffboardingStepInline(admin.TabularInline):
    model = OffboardingStep
    extra = 0
    can_delete = False
    fields = [
        "position",
        "action",
        "parameters",
        "status",
        "attempts",
        "error_code",
        "error_message",
        "aws_request_id",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Offboarding)
class OffboardingAdmin(admin.ModelAdmin):
    list_display = [
        "account",
        "integration",
        "mode",
        "status",
        "current_step",
        "error_code",
        "requested_by",
        "planned_at",
        "finished_at",
    ]
    list_filter = ["status", "mode", "account__integration"]
    list_select_related = ["account__integration", "requested_by"]
    search_fields = ["account__name", "account__arn"]
    inlines = [OffboardingStepInline]
    change_form_template = "admin/accounts/offboarding/change_form.html"
    fields = [
        "account",
        "mode",
        "status",
        "current_step",
        "error_code",
        "error_message",
        "blocker_list",
        "warning_list",
        "requested_by",
        "requested_by_job",
        "planned_at",
        "confirmed_at",
        "started_at",
        "finished_at",
        "attempts",
        "snapshot_json",
    ]
    readonly_fields = fields

    @admin.display(description=_("integration"), ordering="account__integration__name")
    def integration(self, offboarding):
        return offboarding.account.integration

    @admin.display(description=_("snapshot before the first step"))
    def snapshot_json(self, offboarding):
        return format_html("<pre>{}</pre>", json.dumps(offboarding.snapshot, indent=2, sort_keys=True))

    @admin.display(description=_("blockers"))
    def blocker_list(self, offboarding):
        return "\n".join(planning.render(entry) for entry in offboarding.blockers) or "-"

    @admin.display(description=_("warnings"))
    def warning_list(self, offboarding):
        return "\n".join(planning.render(entry) for entry in offboarding.warnings) or "-"

    def lookup_allowed(self, lookup, value, request=None):
        # The plan page links to the offboardings it started with ?id__in=.
        return lookup == "id__in" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def render_change_form(self, request, context, *args, **kwargs):
        # Every field is read-only: the page offers Retry and Cancel instead of Save.
        context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        context["can_retry"] = request.user.has_perm(RETRY_PERMISSION)
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self):
        return [
            path(
                "<int:offboarding_id>/retry/",
                self.admin_site.admin_view(require_POST(self.retry_view)),
                name="accounts_offboarding_retry",
            ),
            path(
                "<int:offboarding_id>/cancel/",
                self.admin_site.admin_view(require_POST(self.cancel_view)),
                name="accounts_offboarding_cancel",
            ),
            *super().get_urls(),
        ]

    def retry_view(self, request, offboarding_id: int):
        _require(request, RETRY_PERMISSION)
        offboarding = get_object_or_404(Offboarding, pk=offboarding_id)
        try:
            services.retry_offboarding(offboarding=offboarding, actor=request.user)
        except services.OffboardingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, gettext("Retrying from the step that failed."))
        return HttpResponseRedirect(reverse("admin:accounts_offboarding_change", args=[offboarding.pk]))

    def cancel_view(self, request, offboarding_id: int):
        _require(request, RETRY_PERMISSION)
        offboarding = get_object_or_404(Offboarding, pk=offboarding_id)
        try:
            services.cancel_offboarding(offboarding=offboarding, actor=request.user)
        except services.OffboardingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, gettext("Cancelled. Steps already done in AWS stay done."))
        return HttpResponseRedirect(reverse("admin:accounts_offboarding_change", args=[offboarding.pk]))


@admin.register(Provisioning)
class ProvisioningAdmin(admin.ModelAdmin):
    list_display = ["user_name", "integration", "person", "status", "requested_by", "created_at"]
    list_filter = ["status", "integration"]
    list_select_related = ["integration", "person", "requested_by"]
    search_fields = ["user_name", "person__email"]
    readonly_fields = [
        "person",
        "integration",
        "user_name",
        "status",
        "account",
        "calls",
        "error_code",
        "error_message",
        "requested_by",
        "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from accounts import admin_views
from accounts.admin_filters import InactiveFilter, PersonStatusFilter, ReviewFilter, UnusedKeyFilter
from accounts.models import AccessKey, MergeRecord, Person, SaaSAccount
from accounts.offboarding.admin import PersonOffboardingAdminMixin, SaaSAccountOffboardingAdminMixin
from accounts.services import export
from accounts.services.people import PersonInUse, delete_person, save_person


def unknown_text(account: SaaSAccount, field_name: str) -> str:
    """Return "Unknown", naming the IAM action the last sync lacked when one is recorded."""
    action = (account.unreadable or {}).get(field_name)
    if action:
        return _("Unknown (missing permission %(action)s)") % {"action": action}
    return _("Unknown")


def yes_no_unknown(account: SaaSAccount, field_name: str) -> str:
    value = getattr(account, field_name)
    if value is None:
        return unknown_text(account, field_name)
    return _("Yes") if value else _("No")


def names_or_unknown(account: SaaSAccount, field_name: str) -> str:
    value = getattr(account, field_name)
    if value is None:
        return unknown_text(account, field_name)
    if not value:
        return _("None")
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    items = [
        item.get("Key", "") + "=" + item.get("Value", "") if isinstance(item, dict) else str(item) for item in value
    ]
    return ", ".join(items)


class PersonAccountInline(admin.TabularInline):
    model = SaaSAccount
    fk_name = "person"
    verbose_name_plural = _("accounts in all integrations")
    fields = ["account_link", "integration", "kind", "user_type", "status", "last_activity"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("integration")

    @admin.display(description=_("account"))
    def account_link(self, account):
        url = reverse("admin:accounts_saasaccount_change", args=[account.pk])
        return format_html('<a href="{}">{}</a>', url, account.name)


@admin.register(Person)
class PersonAdmin(PersonOffboardingAdminMixin, admin.ModelAdmin):
    list_display = ["email", "name", "kind", "status", "left_on", "account_count"]
    list_filter = ["kind", "status"]
    search_fields = ["email", "name"]
    inlines = [PersonAccountInline]
    change_list_template = "admin/accounts/person/change_list.html"

    def get_queryset(self, request):
        # A subquery rather than Count() keeps the query free of GROUP BY, so Meta.ordering still applies.
        totals = (
            SaaSAccount.objects.filter(person=OuterRef("pk"))
            .order_by()
            .values("person")
            .annotate(total=Count("pk"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(account_total=Coalesce(Subquery(totals, output_field=IntegerField()), 0))
        )

    @admin.display(description=_("accounts"), ordering="account_total")
    def account_count(self, person):
        return person.account_total

    def save_model(self, request, obj, form, change):
        save_person(person=obj, actor=request.user)

    def delete_model(self, request, obj):
        delete_person(person=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for person in queryset:
            try:
                delete_person(person=person, actor=request.user)
            except PersonInUse as error:
                messages.error(request, str(error))

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="accounts_person_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        return admin_views.import_people_view(self, request)


class AccessKeyInline(admin.TabularInline):
    model = AccessKey
    fields = ["access_key_id", "status", "created", "last_used_at", "last_used_service", "last_used_region"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class MergeRecordInline(admin.TabularInline):
    model = MergeRecord
    fk_name = "account"
    fields = [
        "merged_at",
        "person",
        "actor",
        "previous_person",
        "previous_email",
        "previous_user_type",
        "undone_at",
        "undone_by",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "previous_person", "actor", "undone_by")


@admin.register(SaaSAccount)
class SaaSAccountAdmin(SaaSAccountOffboardingAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "integration",
        "user_type_badge",
        "email",
        "person_display",
        "console_access",
        "mfa",
        "active_key_count",
        "last_activity",
        "status",
    ]
    list_filter = [
        "integration",
        "user_type",
        "status",
        PersonStatusFilter,
        InactiveFilter,
        UnusedKeyFilter,
        ReviewFilter,
    ]
    list_select_related = ["integration", "person"]
    search_fields = ["name", "email", "arn", "=access_keys__access_key_id"]
    search_help_text = _("Search by name, email, ARN or access key ID.")
    list_per_page = 100
    # The account_list_order index covers this order. Ordering by "integration" would sort by the
    # integration's name, which no index covers, so every page would sort the whole table.
    ordering = ["integration_id", "name", "id"]
    actions = ["merge_into_person", "unmerge", "export_csv", "export_json"]
    inlines = [AccessKeyInline, MergeRecordInline]
    change_list_template = "admin/accounts/saasaccount/change_list.html"
    change_form_template = "admin/accounts/saasaccount/change_form.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "kind",
                    "integration",
                    "provider_id",
                    "arn",
                    "path",
                    "created_in_service",
                    "status",
                    "first_seen",
                    "last_seen",
                    "removed_at",
                ]
            },
        ),
        (
            _("Owner"),
            {
                "fields": [
                    "person_display",
                    "email",
                    "email_source",
                    "email_warning",
                    "link_decision",
                    "user_type_badge",
                    "user_type_reason_text",
                ]
            },
        ),
        (
            _("Access"),
            {
                "fields": [
                    "console_access",
                    "password_last_used_display",
                    "mfa",
                    "mfa_devices_display",
                    "last_activity",
                ]
            },
        ),
        (
            _("Permissions"),
            {
                "fields": [
                    "groups_display",
                    "attached_policies_display",
                    "inline_policies_display",
                    "tags_display",
                    "trusted_principals_display",
                    "service_linked",
                    "unreadable_display",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field for _name, options in self.fieldsets for field in options["fields"]]

    def has_add_permission(self, request):
        # Accounts come from the service through a sync, never from a form.
        return False

    def has_delete_permission(self, request, obj=None):
        # Accounts gone from the service are kept with the status "removed".
        return False

    def get_queryset(self, request):
        active_keys = (
            AccessKey.objects.filter(account=OuterRef("pk"), status=AccessKey.Status.ACTIVE)
            .order_by()
            .values("account")
            .annotate(total=Count("pk"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(active_keys=Coalesce(Subquery(active_keys, output_field=IntegerField()), 0))
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("user type"), ordering="user_type")
    def user_type_badge(self, account):
        return format_html(
            '<span class="rc-badge rc-type-{}">{}</span>', account.user_type, account.get_user_type_display()
        )

    @admin.display(description=_("person"), ordering="person__email")
    def person_display(self, account):
        person = account.person
        if person is None:
            return "-"
        url = reverse("admin:accounts_person_change", args=[person.pk])
        if person.status == Person.Status.ACTIVE:
            return format_html('<a href="{}">{}</a>', url, str(person))
        return format_html(
            '<a href="{}">{}</a> <span class="rc-badge rc-person-{}">{}</span>',
            url,
            str(person),
            person.status,
            person.get_status_display(),
        )

    @admin.display(description=_("why this user type"))
    def user_type_reason_text(self, account):
        return account.user_type_reason_text

    @admin.display(description=_("console access"), ordering="has_console_password")
    def console_access(self, account):
        return yes_no_unknown(account, "has_console_password")

    @admin.display(description=_("console password last used"))
    def password_last_used_display(self, account):
        if account.password_last_used is not None:
            return date_format(localtime(account.password_last_used), "DATETIME_FORMAT")
        if "password_last_used" in (account.unreadable or {}) or account.has_console_password is None:
            return unknown_text(account, "password_last_used")
        return _("Never")

    @admin.display(description=_("MFA"), ordering="mfa_enabled")
    def mfa(self, account):
        return yes_no_unknown(account, "mfa_enabled")

    @admin.display(description=_("active access keys"), ordering="active_keys")
    def active_key_count(self, account):
        return account.active_keys

    @admin.display(description=_("MFA devices"))
    def mfa_devices_display(self, account):
        return names_or_unknown(account, "mfa_devices")

    @admin.display(description=_("groups"))
    def groups_display(self, account):
        return names_or_unknown(account, "groups")

    @admin.display(description=_("attached policies"))
    def attached_policies_display(self, account):
        return names_or_unknown(account, "attached_policies")

    @admin.display(description=_("inline policies"))
    def inline_policies_display(self, account):
        return names_or_unknown(account, "inline_policies")

    @admin.display(description=_("tags"))
    def tags_display(self, account):
        return names_or_unknown(account, "tags")

    @admin.display(description=_("trusted principals"))
    def trusted_principals_display(self, account):
        return names_or_unknown(account, "trusted_principals")

    @admin.display(description=_("not readable in the last sync"))
    def unreadable_display(self, account):
        if not account.unreadable:
            return "-"
        return format_html_join(
            ", ",
            "{} ({})",
            ((field, action) for field, action in sorted(account.unreadable.items())),
        )

    def get_urls(self):
        return [
            path("merge/", self.admin_site.admin_view(self.merge_view), name="accounts_saasaccount_merge"),
            path("unmerge/", self.admin_site.admin_view(self.unmerge_view), name="accounts_saasaccount_unmerge"),
            path(
                "suggestions/",
                self.admin_site.admin_view(self.suggestions_view),
                name="accounts_saasaccount_suggestions",
            ),
            *super().get_urls(),
        ]

    def merge_view(self, request):
        return admin_views.merge_view(self, request)

    def unmerge_view(self, request):
        return admin_views.unmerge_view(self, request)

    def suggestions_view(self, request):
        return admin_views.suggestions_view(self, request)

    def has_merge_permission(self, request):
        return request.user.has_perm(admin_views.MERGE_PERMISSION)

    def has_export_permission(self, request):
        return request.user.has_perm("accounts.export_accounts")

    @admin.action(description=_("Merge into person…"), permissions=["merge"])
    def merge_into_person(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(reverse("admin:accounts_saasaccount_merge") + "?" + urlencode({"ids": ids}))

    @admin.action(description=_("Unmerge from person…"), permissions=["merge"])
    def unmerge(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(reverse("admin:accounts_saasaccount_unmerge") + "?" + urlencode({"ids": ids}))

    @admin.action(description=_("Export selected accounts as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in export.iter_csv(export.iter_records(queryset))),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="accounts.csv"'
        return response

    @admin.action(description=_("Export selected accounts as JSON"), permissions=["export"])
    def export_json(self, request, queryset):
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in export.iter_json(export.iter_records(queryset))),
            content_type="application/json",
        )
        response["Content-Disposition"] = 'attachment; filename="accounts.json"'
        return response

"""List filters for the account list, backed by accounts.selectors."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from accounts.models import Person


class PersonStatusFilter(admin.SimpleListFilter):
    title = _("person")
    parameter_name = "person_status"

    def lookups(self, request, model_admin):
        return [
            (Person.Status.LEFT, _("Person left (active account)")),
            (Person.Status.ON_LEAVE, _("Person on leave (active account)")),
        ]

    def queryset(self, request, queryset):
        if self.value() in (Person.Status.LEFT, Person.Status.ON_LEAVE):
            return selectors.with_person_status(queryset, self.value())
        return queryset


class InactiveFilter(admin.SimpleListFilter):
    title = _("activity")
    parameter_name = "inactive"

    def lookups(self, request, model_admin):
        return [(str(selectors.INACTIVE_DAYS), _("Inactive 45+ days"))]

    def queryset(self, request, queryset):
        if self.value() == str(selectors.INACTIVE_DAYS):
            return selectors.inactive(queryset)
        return queryset


class UnusedKeyFilter(admin.SimpleListFilter):
    title = _("access keys")
    parameter_name = "unused_key"

    def lookups(self, request, model_admin):
        return [(str(selectors.UNUSED_KEY_DAYS), _("Active access key unused 90+ days"))]

    def queryset(self, request, queryset):
        if self.value() == str(selectors.UNUSED_KEY_DAYS):
            return selectors.with_unused_active_key(queryset)
        return queryset


class ReviewFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("unknown", _("Unknown (needs review)"))]

    def queryset(self, request, queryset):
        if self.value() == "unknown":
            return selectors.needs_review(queryset)
        return queryset

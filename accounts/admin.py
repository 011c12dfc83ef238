from django.contrib import admin

from accounts.models import Person, SaaSAccount
from accounts.offboarding.admin import PersonOffboardingAdminMixin, SaaSAccountOffboardingAdminMixin


@admin.register(Person)
class PersonAdmin(PersonOffboardingAdminMixin, admin.ModelAdmin):
    list_display = ["email", "name", "kind", "status", "left_on"]
    list_filter = ["kind", "status"]
    search_fields = ["email", "name"]


@admin.register(SaaSAccount)
class SaaSAccountAdmin(SaaSAccountOffboardingAdminMixin, admin.ModelAdmin):
    list_display = ["name", "integration", "user_type", "email", "person", "status"]
    list_filter = ["integration", "user_type", "status"]
    list_select_related = ["integration", "person"]
    search_fields = ["name", "email", "arn"]

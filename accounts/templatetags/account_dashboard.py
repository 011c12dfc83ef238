from django import template
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from accounts.models import Person

register = template.Library()


def _accounts_url(**filters) -> str:
    return reverse("admin:accounts_saasaccount_changelist") + "?" + urlencode(filters)


@register.simple_tag(takes_context=True)
def account_dashboard(context) -> dict | None:
    """Return the dashboard rows (label, count, link) for a user who may view accounts, else None."""
    request = context.get("request")
    if request is None or not request.user.has_perm("accounts.view_saasaccount"):
        return None
    counts = selectors.dashboard_counts()
    active = {"status__exact": "active"}
    by_type = [
        (label, total, _accounts_url(user_type__exact=value, **active))
        for value, label, total in counts["by_user_type"]
    ]
    attention = [
        (_("Unknown accounts to review"), counts["needs_review"], _accounts_url(review="unknown")),
        (
            _("Active accounts of people who left"),
            counts["person_left"],
            _accounts_url(person_status=Person.Status.LEFT),
        ),
        (
            _("Active accounts of people on leave"),
            counts["person_on_leave"],
            _accounts_url(person_status=Person.Status.ON_LEAVE),
        ),
        (
            _("Accounts inactive 45+ days"),
            counts["inactive"],
            _accounts_url(inactive=selectors.INACTIVE_DAYS),
        ),
        (
            _("Accounts with an active access key unused 90+ days"),
            counts["unused_keys"],
            _accounts_url(unused_key=selectors.UNUSED_KEY_DAYS),
        ),
    ]
    if request.user.has_perm("integrations.view_integration"):
        attention.append(
            (
                _("Integrations failing"),
                counts["integrations_failing"],
                reverse("admin:integrations_integration_changelist") + "?status__exact=failed",
            )
        )
    return {"by_type": by_type, "attention": attention}

"""The account and people admin's own pages: people import, merge, unmerge and suggested merges.

Each view re-checks the permission it needs, shows what will change first, and calls a service.
"""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.forms import MergeTargetForm, PeopleImportForm
from accounts.models import SaaSAccount
from accounts.services.merging import (
    accept_suggestions,
    merge_accounts,
    merge_accounts_into_new_person,
    plan_merge,
    plan_unmerge,
    unmerge_accounts,
)
from accounts.services.people_import import PeopleImportError, import_people
from accounts.services.suggestions import suggest_merges, unlinked_accounts

SUGGESTIONS_PER_PAGE = 100
# A primary key in a form or query string: ASCII digits only (str.isdigit also accepts "²", which
# int() rejects), and short enough for int() and the database's bigint.
_PRIMARY_KEY = re.compile(r"[0-9]{1,18}")
IMPORT_PERMISSION = "accounts.import_people"
MERGE_PERMISSION = "accounts.merge_account"


def _context(model_admin, request, **values) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "app_label": model_admin.model._meta.app_label,
        **values,
    }


def import_people_view(model_admin, request):
    if not request.user.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied
    errors = []
    if request.method == "POST":
        form = PeopleImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = import_people(file=form.cleaned_data["file"].read(), actor=request.user)
            except PeopleImportError as error:
                errors = error.errors
            else:
                messages.success(
                    request,
                    _(
                        "Imported the people: %(created)s created, %(updated)s updated, %(unchanged)s unchanged; "
                        "%(linked)s account(s) linked to them by email."
                    )
                    % {
                        "created": result.created,
                        "updated": result.updated,
                        "unchanged": result.unchanged,
                        "linked": result.linked,
                    },
                )
                return redirect("admin:accounts_person_changelist")
    else:
        form = PeopleImportForm()
    context = _context(model_admin, request, title=_("Import people from CSV"), form=form, errors=errors)
    return TemplateResponse(request, "admin/accounts/person/import.html", context)


def parse_ids(values) -> list[int]:
    """Return the primary keys among `values`, skipping every value that is not one."""
    return [int(value.strip()) for value in values if _PRIMARY_KEY.fullmatch(value.strip())]


def _selected_accounts(request):
    raw = request.POST.get("ids") if request.method == "POST" else request.GET.get("ids")
    ids = parse_ids((raw or "").split(","))
    accounts = list(SaaSAccount.objects.filter(pk__in=ids).select_related("integration", "person").order_by("name"))
    return accounts, ",".join(str(account.pk) for account in accounts)


def merge_view(model_admin, request):
    """Step 1 picks the person, step 2 shows each account's change, step 3 (confirm) merges."""
    if not request.user.has_perm(MERGE_PERMISSION):
        raise PermissionDenied
    accounts, ids = _selected_accounts(request)
    changelist = reverse("admin:accounts_saasaccount_changelist")
    if not accounts:
        messages.warning(request, _("Select one or more accounts to merge."))
        return redirect(changelist)
    step = request.POST.get("step", "choose") if request.method == "POST" else "choose"
    form = MergeTargetForm(request.POST if request.method == "POST" else None, admin_site=model_admin.admin_site)
    if step == "choose" or not form.is_valid():
        context = _context(
            model_admin,
            request,
            title=_("Merge accounts into a person"),
            form=form,
            accounts=accounts,
            ids=ids,
        )
        context["media"] = model_admin.media + form.media
        return TemplateResponse(request, "admin/accounts/saasaccount/merge_choose.html", context)

    person, is_new = form.target_person()
    if is_new and not request.user.has_perm("accounts.add_person"):
        raise PermissionDenied
    changes = plan_merge(accounts=accounts, person=person)
    relinks = [change for change in changes if change.relinks]
    confirm_error = ""
    if step == "merge":
        if relinks and request.POST.get("confirm_relink") != "yes":
            confirm_error = _(
                "Some accounts are linked to another person. Tick the box to confirm that they move to %(person)s."
            ) % {"person": person}
        else:
            if is_new:
                person, _records = merge_accounts_into_new_person(
                    accounts=accounts, email=person.email, name=person.name, kind=person.kind, actor=request.user
                )
            else:
                merge_accounts(accounts=accounts, person=person, actor=request.user)
            messages.success(
                request,
                _("Merged %(count)s account(s) into %(person)s.") % {"count": len(accounts), "person": person},
            )
            return redirect(changelist)
    context = _context(
        model_admin,
        request,
        title=_("Confirm the merge into %(person)s") % {"person": person},
        form=form,
        person=person,
        is_new=is_new,
        changes=changes,
        relinks=relinks,
        confirm_error=confirm_error,
        ids=ids,
    )
    return TemplateResponse(request, "admin/accounts/saasaccount/merge_confirm.html", context)


def unmerge_view(model_admin, request):
    """Show what unmerging the selected accounts changes, and unmerge them on a confirmed POST."""
    if not request.user.has_perm(MERGE_PERMISSION):
        raise PermissionDenied
    accounts, ids = _selected_accounts(request)
    linked = [account for account in accounts if account.person_id is not None]
    changelist = reverse("admin:accounts_saasaccount_changelist")
    if not linked:
        messages.warning(
            request, _("None of the selected accounts is linked to a person, so there is nothing to unmerge.")
        )
        return redirect(changelist)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        unmerge_accounts(accounts=linked, actor=request.user)
        messages.success(request, _("Unmerged %(count)s account(s).") % {"count": len(linked)})
        if len(linked) == 1:
            return redirect("admin:accounts_saasaccount_change", linked[0].pk)
        return redirect(changelist)
    changes = [plan_unmerge(account=account) for account in linked]
    context = _context(model_admin, request, title=_("Confirm the unmerge"), changes=changes, ids=ids)
    return TemplateResponse(request, "admin/accounts/saasaccount/unmerge_confirm.html", context)


def _parse_pair(value: str) -> tuple[int, int] | None:
    account_id, _separator, person_id = value.partition(":")
    parsed = parse_ids([account_id, person_id])
    if len(parsed) == 2:
        return parsed[0], parsed[1]
    return None


def suggestions_view(model_admin, request):
    """List unlinked accounts with candidate people and merge the ones accepted."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    if request.method == "POST":
        if not request.user.has_perm(MERGE_PERMISSION):
            raise PermissionDenied
        values = [request.POST["accept_one"]] if request.POST.get("accept_one") else request.POST.getlist("accept")
        pairs = [pair for pair in map(_parse_pair, values) if pair]
        accepted = accept_suggestions(pairs=pairs, actor=request.user)
        if accepted:
            messages.success(request, _("Merged %(count)s account(s).") % {"count": accepted})
        else:
            messages.warning(request, _("Select at least one suggestion to accept."))
        return redirect(request.get_full_path())

    paginator = Paginator(unlinked_accounts(), SUGGESTIONS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    suggestions = suggest_merges(page.object_list)
    context = _context(
        model_admin,
        request,
        title=_("Suggested merges"),
        suggestions=suggestions,
        page=page,
        can_change=request.user.has_perm(MERGE_PERMISSION),
    )
    return TemplateResponse(request, "admin/accounts/saasaccount/suggestions.html", context)

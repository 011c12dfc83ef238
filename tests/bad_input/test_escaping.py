"""HTML and script in names and tags are shown escaped on every page that shows them."""

import pytest
from django.urls import reverse

from accounts.models import Offboarding, Person, SaaSAccount
from accounts.offboarding.services import plan_offboarding

SCRIPT = "<script>alert('rollcall')</script>"
ESCAPED = "&lt;script&gt;alert(&#x27;rollcall&#x27;)&lt;/script&gt;"


@pytest.fixture
def hostile(make_integration, make_user):
    """An integration, person, account and offboarding whose names and tags contain a script element."""
    integration = make_integration(extended=True)
    person = Person.objects.create(email="mallory@example.com", name=f"Mallory {SCRIPT}")
    account = make_user(integration, "mallory")
    offboarding = plan_offboarding(account=account, mode=Offboarding.Mode.DELETE)
    # IAM refuses these characters in user names, but the database must be safe on its own.
    SaaSAccount.objects.filter(pk=account.pk).update(
        name=f"mallory{SCRIPT}", person=person, tags={f"team{SCRIPT}": f"value{SCRIPT}"}
    )
    unlinked = SaaSAccount.objects.create(
        integration=integration,
        kind=SaaSAccount.Kind.IAM_USER,
        provider_id="AIDAHOSTILE000000001",
        name=f"mallory.second{SCRIPT}",
        arn="arn:aws:iam::222222222222:user/mallory.second",
        tags={"email": f"mallory@example.com{SCRIPT}"},
    )
    return {
        "integration": integration,
        "person": person,
        "account": account,
        "unlinked": unlinked,
        "offboarding": offboarding,
    }


def pages(world) -> dict[str, str]:
    account, unlinked = world["account"], world["unlinked"]
    return {
        "account list": reverse("admin:accounts_saasaccount_changelist"),
        "account page": reverse("admin:accounts_saasaccount_change", args=[account.pk]),
        "person page": reverse("admin:accounts_person_change", args=[world["person"].pk]),
        "person list": reverse("admin:accounts_person_changelist"),
        "status tab": reverse("admin:integrations_integration_change", args=[world["integration"].pk]),
        "merge page": reverse("admin:accounts_saasaccount_merge") + f"?ids={account.pk},{unlinked.pk}",
        "unmerge page": reverse("admin:accounts_saasaccount_unmerge") + f"?ids={account.pk}",
        "suggestions": reverse("admin:accounts_saasaccount_suggestions"),
        "offboarding plan": reverse("admin:accounts_saasaccount_offboard_confirm") + f"?ids={world['offboarding'].pk}",
        "offboarding page": reverse("admin:accounts_offboarding_change", args=[world["offboarding"].pk]),
        "offboarding list": reverse("admin:accounts_offboarding_changelist"),
        "provisioning page": reverse("admin:accounts_person_create_iam_user", args=[world["person"].pk]),
    }


PAGE_NAMES = [
    "account list",
    "account page",
    "person page",
    "person list",
    "status tab",
    "merge page",
    "unmerge page",
    "suggestions",
    "offboarding plan",
    "offboarding page",
    "offboarding list",
    "provisioning page",
]


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_page_escapes_script(admin_client, hostile, page):
    response = admin_client.get(pages(hostile)[page])

    content = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(" not in content
    assert ESCAPED in content or "&lt;script&gt;" in content


def test_account_page_shows_escaped_tag(admin_client, hostile):
    response = admin_client.get(reverse("admin:accounts_saasaccount_change", args=[hostile["account"].pk]))

    content = response.content.decode()
    assert f"team{ESCAPED}" in content
    assert f"value{ESCAPED}" in content


def test_merge_confirm_escapes_new_person(admin_client, hostile):
    response = admin_client.post(
        reverse("admin:accounts_saasaccount_merge"),
        {
            "ids": str(hostile["unlinked"].pk),
            "step": "confirm",
            "new_email": "eve@example.com",
            "new_name": f"Eve {SCRIPT}",
            "new_kind": "employee",
        },
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(" not in content
    assert f"Eve {ESCAPED}" in content

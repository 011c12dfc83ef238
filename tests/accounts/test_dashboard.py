import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import Integration
from tests.accounts.factories import make_account, make_integration, make_key, make_person

pytestmark = pytest.mark.django_db


def dashboard_rows(response) -> dict[str, tuple[int, str]]:
    """Map each dashboard label to its count and link, read from the rendered context."""
    dashboard = response.context["dashboard"]
    return {str(label): (total, url) for label, total, url in dashboard["by_type"] + dashboard["attention"]}


@pytest.fixture
def populated():
    integration = make_integration("Production")
    make_integration("Broken", status=Integration.Status.FAILED)
    now = timezone.now()
    left = make_person("left@example.com", status="left")
    on_leave = make_person("leave@example.com", status="on_leave")
    make_account(integration, "retiree", person=left, user_type="employee", last_activity=now)
    make_account(integration, "resting", person=on_leave, user_type="employee", last_activity=now)
    make_account(integration, "mystery", user_type="unknown", last_activity=now)
    make_account(integration, "gone", user_type="unknown", status="removed")
    bot = make_account(
        integration, "bot", user_type="system", last_activity=now - datetime.timedelta(days=50)
    )
    make_key(bot, "AKIADASH00000000001", days_unused=120)


def test_dashboard_counts_and_links(staff_client, populated):
    response = staff_client.get(reverse("admin:index"))

    rows = dashboard_rows(response)
    assert rows["Employee"][0] == 2
    assert rows["System"][0] == 1
    assert rows["Unknown"][0] == 1
    assert rows["Guest"][0] == 0
    assert rows["Unknown accounts to review"][0] == 1
    assert rows["Active accounts of people who left"][0] == 1
    assert rows["Active accounts of people on leave"][0] == 1
    assert rows["Accounts inactive 45+ days"][0] == 1
    assert rows["Accounts with an active access key unused 90+ days"][0] == 1
    assert rows["Integrations failing"][0] == 1
    page = response.content.decode()
    for _total, url in rows.values():
        assert f'href="{url.replace("&", "&amp;")}"' in page


def test_dashboard_links_match_counts(staff_client, populated):
    rows = dashboard_rows(staff_client.get(reverse("admin:index")))

    for label, (total, url) in rows.items():
        if label == "Integrations failing":
            continue
        listed = staff_client.get(url).context["cl"].result_count
        assert listed == total, label


def test_dashboard_hidden_without_permission(client, django_user_model, populated):
    user = django_user_model.objects.create_user("nobody", password="a-long-test-password", is_staff=True)
    client.force_login(user)

    response = client.get(reverse("admin:index"))

    assert 'id="dashboard"' not in response.content.decode()

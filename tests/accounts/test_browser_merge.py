import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select

from accounts.models import SaaSAccount
from tests.accounts.factories import make_account, make_integration
from tests.browser import log_in, wait_for

PEOPLE_CSV = "email,name,kind,status,left_on\ntaro.yamada@example.com,Taro Yamada,employee,active,\n"


def text_of(browser, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_import_merge_and_unmerge(browser, live_server, tmp_path):
    get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-test-password")
    account = make_account(make_integration("Production"), "tyamada")
    people_file = tmp_path / "people.csv"
    people_file.write_text(PEOPLE_CSV, encoding="utf-8")
    log_in(browser, live_server.url, username="admin", password="a-long-test-password")

    browser.get(f"{live_server.url}/admin/accounts/person/import/")
    browser.find_element(By.NAME, "file").send_keys(str(people_file))
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(
        browser,
        expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".messagelist"), "1 created"),
    )

    browser.get(f"{live_server.url}/admin/accounts/saasaccount/")
    assert text_of(browser, "td.field-user_type_badge") == "Unknown"
    browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{account.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("merge_into_person")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()

    wait_for(browser, expected_conditions.presence_of_element_located((By.ID, "merge-form")))
    browser.find_element(By.CSS_SELECTOR, ".select2-selection").click()
    search = wait_for(
        browser,
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, ".select2-search__field")),
    )
    search.send_keys("taro")
    option = wait_for(
        browser,
        expected_conditions.element_to_be_clickable(
            (
                By.XPATH,
                "//li[contains(@class, 'select2-results__option')"
                " and contains(., 'taro.yamada@example.com')]",
            )
        ),
    )
    option.click()
    browser.find_element(By.CSS_SELECTOR, "#merge-form input[type=submit]").click()

    plan = wait_for(browser, expected_conditions.presence_of_element_located((By.ID, "change-plan")))
    assert "→ taro.yamada@example.com" in plan.text
    browser.find_element(By.ID, "confirm-merge").click()

    wait_for(
        browser,
        expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".messagelist"), "Merged 1"),
    )
    assert text_of(browser, "td.field-user_type_badge") == "Employee"
    assert text_of(browser, "td.field-email") == "taro.yamada@example.com"
    assert "Taro Yamada" in text_of(browser, "td.field-person_display")

    browser.get(f"{live_server.url}/admin/accounts/saasaccount/{account.pk}/change/")
    browser.find_element(By.CSS_SELECTOR, ".object-tools a[href*='/unmerge/']").click()
    wait_for(browser, expected_conditions.presence_of_element_located((By.ID, "change-plan")))
    browser.find_element(By.ID, "confirm-unmerge").click()

    wait_for(
        browser,
        expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".messagelist"), "Unmerged 1"),
    )
    assert "Unknown" in text_of(browser, ".field-user_type_badge .readonly")
    account.refresh_from_db()
    assert account.person is None
    assert account.user_type == SaaSAccount.UserType.UNKNOWN
    assert account.link_decision == SaaSAccount.LinkDecision.UNMERGED

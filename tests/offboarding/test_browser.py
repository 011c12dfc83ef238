import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select

from accounts.models import Offboarding
from tests.browser import log_in, wait_for


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_offboard_from_account_list(browser, live_server, make_integration, make_user, iam, tmp_path):
    get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-test-password")
    account = make_user(make_integration(extended=True), "alice", keys=2, groups=("developers",))
    log_in(browser, live_server.url, username="admin", password="a-long-test-password")

    browser.get(f"{live_server.url}/admin/accounts/saasaccount/")
    browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{account.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("offboard_accounts")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()

    run_button = wait_for(browser, expected_conditions.presence_of_element_located((By.ID, "run-offboarding")))
    steps = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "table.steps tbody td:nth-child(2)")]
    assert steps == [
        "DeleteLoginProfile",
        "DeleteAccessKey",
        "DeleteAccessKey",
        "DetachUserPolicy",
        "RemoveUserFromGroup",
        "DeleteUser",
    ]
    assert [user["UserName"] for user in iam.list_users()["Users"]] == ["alice"]
    assert browser.save_screenshot(str(tmp_path / "offboarding-plan.png"))
    offboarding = Offboarding.objects.get()
    browser.find_element(By.ID, f"confirm_name_{offboarding.pk}").send_keys("alice")
    run_button.click()

    wait_for(browser, expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, ".messagelist"), "Started 1"))
    browser.find_element(By.LINK_TEXT, "alice").click()
    wait_for(browser, expected_conditions.presence_of_element_located((By.ID, "steps-group")))
    assert browser.find_element(By.CSS_SELECTOR, ".field-status .readonly").text == "Succeeded"
    step_statuses = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "td.field-status")]
    assert step_statuses == ["Done"] * 6
    assert browser.save_screenshot(str(tmp_path / "offboarding-finished.png"))
    assert iam.list_users()["Users"] == []

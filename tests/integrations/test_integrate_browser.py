"""Integrating an AWS account in a real browser: a wrong external id, its fix, and the retry."""

import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions

from integrations.models import Integration
from tests.browser import log_in, wait_for
from tests.integrations.conftest import CUSTOMER_ACCOUNT_ID, EXTERNAL_ID


def replace_text(element, text: str) -> None:
    element.clear()
    element.send_keys(text)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_wrong_external_id_fixed_in_settings(browser, live_server, customer_role, fake_aws):
    # Needs the collection task integrations.tasks.run_sync for the accounts at the end.
    customer_iam = fake_aws.iam(CUSTOMER_ACCOUNT_ID)
    customer_iam.create_user(UserName="alice")
    customer_iam.create_user(UserName="svc-backup")
    get_user_model().objects.create_superuser("admin", "admin@example.com", "correct-horse-battery")
    log_in(browser, live_server.url, username="admin", password="correct-horse-battery")

    browser.get(f"{live_server.url}/admin/integrations/integration/add/")
    assert "111111111111" in browser.find_element(By.ID, "value-platform-account-id").text
    generated = browser.find_element(By.ID, "id_external_id").get_attribute("value")
    assert len(generated) >= 32
    browser.find_element(By.ID, "id_role_arn").send_keys(customer_role)
    replace_text(browser.find_element(By.ID, "id_external_id"), "a-wrong-external-id-typed-by-mistake-0000")
    browser.find_element(By.NAME, "integrate").click()

    fix = wait_for(browser, expected_conditions.visibility_of_element_located((By.ID, "last-error-fix")))
    assert "external ID shown in Settings" in fix.text
    assert browser.find_element(By.ID, "integration-status").text == "Failed"
    assert "AccessDenied" in browser.find_element(By.ID, "last-error-message").text
    assert not browser.find_element(By.ID, "settings").is_displayed()

    browser.find_element(By.CSS_SELECTOR, ".rollcall-tabs a[data-tab=settings]").click()
    external_id_field = wait_for(browser, expected_conditions.visibility_of_element_located((By.ID, "id_external_id")))
    replace_text(external_id_field, EXTERNAL_ID)
    browser.find_element(By.NAME, "save").click()
    wait_for(browser, expected_conditions.visibility_of_element_located((By.ID, "retry-button")))

    browser.find_element(By.ID, "retry-button").click()
    wait_for(browser, expected_conditions.text_to_be_present_in_element((By.ID, "integration-status"), "Connected"))
    assert browser.find_elements(By.ID, "last-error") == []
    integration = Integration.objects.get()
    assert integration.status == Integration.Status.CONNECTED

    browser.find_element(By.CSS_SELECTOR, ".rollcall-tabs a[data-tab=accounts]").click()
    table = wait_for(browser, expected_conditions.visibility_of_element_located((By.ID, "account-table")))
    assert "alice" in table.text
    assert "svc-backup" in table.text

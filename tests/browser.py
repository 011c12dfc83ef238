"""Steps that browser tests share."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def wait_for(browser, condition, timeout: float = 10):
    return WebDriverWait(browser, timeout).until(condition)


def log_in(browser, live_server_url: str, *, username: str, password: str) -> None:
    """Log into the admin through its login form and wait for the index page."""
    browser.get(f"{live_server_url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
    wait_for(browser, expected_conditions.presence_of_element_located((By.ID, "user-tools")))

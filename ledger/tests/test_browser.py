"""The ledger through a real Chromium: the browsable API's login and forms, and the admin.

These drive Debian's chromium (the `chromium` fixture of the root conftest.py) against
pytest-django's live server, which also serves the static files, so a missing stylesheet or a
broken form shows up here.
"""

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from ledger.choices import TransactionType
from ledger.models import Transaction
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    main_account,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 15


@pytest.fixture
def driver(chromium: webdriver.Chrome, live_server) -> Iterator[webdriver.Chrome]:
    """The module's browser, signed out: each test starts with no session cookie."""
    chromium.get(f"{live_server.url}/healthz")  # cookies can only be cleared on the site's origin
    chromium.delete_all_cookies()
    yield chromium
    chromium.delete_all_cookies()


def wait(driver: webdriver.Chrome) -> WebDriverWait:
    return WebDriverWait(driver, WAIT_SECONDS)


def fill_in(driver: webdriver.Chrome, css: str, value: str) -> None:
    field = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))
    field.clear()
    field.send_keys(value)


def wait_for_status(driver: webdriver.Chrome, status: str) -> None:
    """Wait until the browsable API's page shows a response with this status line."""
    wait(driver).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".response-info"), f"HTTP {status}")
    )


def response_text(driver: webdriver.Chrome) -> str:
    """The status line, headers and body the browsable API shows."""
    return driver.find_element(By.CSS_SELECTOR, ".response-info").text


def response_body(driver: webdriver.Chrome) -> dict:
    """The JSON body the browsable API shows under the status line and headers."""
    return json.loads(response_text(driver).split("\n\n", 1)[1])


def sign_in_to_api(driver: webdriver.Chrome, base_url: str, user: User, next_path: str) -> None:
    """Sign in through the browsable API's login page and land on `next_path`."""
    driver.get(f"{base_url}/api-auth/login/?next={next_path}")
    fill_in(driver, "#id_username", user.email)
    fill_in(driver, "#id_password", PASSWORD)
    driver.find_element(By.ID, "submit-id-submit").click()
    wait(driver).until(EC.url_to_be(f"{base_url}{next_path}"))
    wait_for_status(driver, "200 OK")


def sign_in_to_admin(driver: webdriver.Chrome, base_url: str, user: User) -> None:
    driver.get(f"{base_url}/admin/login/?next=/admin/")
    fill_in(driver, "#id_username", user.email)
    fill_in(driver, "#id_password", PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    wait(driver).until(EC.url_to_be(f"{base_url}/admin/"))
    wait(driver).until(EC.presence_of_element_located((By.ID, "user-tools")))


def assert_stylesheet_served(driver: webdriver.Chrome, name: str) -> None:
    """The page links `name`, the server answers it as CSS, and the browser applied its rules."""
    link = driver.find_element(By.CSS_SELECTOR, f"link[rel=stylesheet][href*='{name}']")
    status, content_type, rule_count = driver.execute_async_script(
        """
        const [href, done] = arguments;
        const sheet = [...document.styleSheets].find((s) => s.href === href);
        fetch(href).then((r) => done([r.status, r.headers.get("content-type"),
                                      sheet ? sheet.cssRules.length : 0]));
        """,
        link.get_property("href"),
    )
    assert status == 200
    assert content_type.startswith("text/css")
    assert rule_count > 0


def test_expense_created_in_browsable_api_shows_in_list_and_admin(driver, live_server):
    user = UserFactory()
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    base = live_server.url

    sign_in_to_api(driver, base, user, "/api/v1/expenses/")
    assert_stylesheet_served(driver, "rest_framework/css/bootstrap.min.css")

    # The HTML form, not the raw-data one (DRF remembers the last tab in a cookie).
    driver.find_element(By.CSS_SELECTOR, ".form-switcher a[name=html-tab]").click()
    fill_in(driver, "#post-object-form input[name=description]", "Groceries at the market")
    fill_in(driver, "#post-object-form input[name=amount]", "20")
    driver.find_element(By.CSS_SELECTOR, "#post-object-form button").click()

    wait_for_status(driver, "201 Created")
    created = response_body(driver)
    assert created["description"] == "Groceries at the market"
    assert created["amount"] == "-20.00"
    assert created["type"] == TransactionType.EXPENSE

    driver.get(f"{base}/api/v1/expenses/")
    wait_for_status(driver, "200 OK")
    listed = response_body(driver)
    assert listed["count"] == 1
    assert [(row["id"], row["description"], row["amount"]) for row in listed["results"]] == [
        (created["id"], "Groceries at the market", "-20.00")
    ]

    saved = Transaction.objects.get()
    assert saved.pk == created["id"]
    assert saved.created_by == user
    assert saved.account == main_account(user)  # none chosen: the personal ledger's "Main"
    assert saved.ledger_id == saved.account.ledger_id
    assert saved.type == TransactionType.EXPENSE
    assert saved.description == "Groceries at the market"
    assert saved.amount == Decimal("-20.00")

    driver.delete_all_cookies()
    sign_in_to_admin(driver, base, admin_user)
    driver.get(f"{base}/admin/ledger/transaction/")
    result_list = wait(driver).until(EC.visibility_of_element_located((By.ID, "result_list")))
    assert "Groceries at the market" in result_list.text
    totals = driver.find_element(By.ID, "ledger-totals").text
    assert "Filtered rows: 1" in totals
    assert "expense -20.00" in totals
    assert_stylesheet_served(driver, "admin/css/base.css")


def test_browsable_api_shows_another_user_none_of_the_first_users_data(driver, live_server):
    # No quotes in these texts: the page source HTML-escapes them, and an absence check
    # against an escaped string would pass whatever the page showed.
    owner = UserFactory()
    owner_category = CategoryFactory(owner=owner, name="Owner private category")
    TransactionFactory(owner=owner, description="Owner secret rent", category=owner_category)
    household = SharedLedgerFactory(owner=owner, name="Owner private household")
    AccountFactory(ledger=household, name="Owner private account")
    other = UserFactory()
    CategoryFactory(owner=other, name="Other groceries")
    TransactionFactory(owner=other, description="Other shared rent")

    sign_in_to_api(driver, live_server.url, other, "/api/v1/transactions/")
    listed = response_body(driver)
    assert [row["description"] for row in listed["results"]] == ["Other shared rent"]
    assert "Owner secret rent" not in driver.page_source

    # The filter form offers the signed-in user's categories only.
    driver.find_element(By.CSS_SELECTOR, "button[data-target='#filtersModal']").click()
    category = wait(driver).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "#filtersModal select[name=category]"))
    )
    choices = [option.text for option in category.find_elements(By.TAG_NAME, "option")]
    assert "Other groceries" in choices
    assert "Owner private category" not in choices
    # And the signed-in user's ledgers and accounts only.
    for name, theirs in (
        ("ledger", "Owner private household"),
        ("account", "Owner private account"),
    ):
        select = driver.find_element(By.CSS_SELECTOR, f"#filtersModal select[name={name}]")
        offered = [option.text for option in select.find_elements(By.TAG_NAME, "option")]
        assert theirs not in offered
        assert ("Personal" if name == "ledger" else "Main") in offered

    # A search through that form that matches both users' rows finds only this user's.
    fill_in(driver, "#filtersModal input[name=search]", "rent")
    driver.find_element(By.CSS_SELECTOR, "#filtersModal form.form button[type=submit]").click()
    wait(driver).until(EC.url_contains("search=rent"))
    wait_for_status(driver, "200 OK")
    searched = response_body(driver)
    assert [row["description"] for row in searched["results"]] == ["Other shared rent"]
    assert "Owner secret rent" not in driver.page_source

"""The Content-Security-Policy and CORS in a real Chromium, against the production server with the production
settings (no TLS here, so DJANGO_SECURE_SSL_REDIRECT=false; everything else as deployed).

CSP: each page renders (Swagger UI lists the operations, Redoc the API, the admin is styled, the
browsable API runs its scripts) and the browser console shows no CSP violation. A control proves
that a violation would show. CORS: a page served from another port fetch()es the API with a bearer
token; the allowed origin gets the data, another origin's fetch fails.
"""

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from cashman_site.tests.servers import SERVER_USER, Server, production_server, static_pages

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_SECONDS = 20


@pytest.fixture(scope="module")
def origins(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Two origins serving the same small page: (allowed by CORS, not allowed)."""
    directory = tmp_path_factory.mktemp("spa")
    (directory / "index.html").write_text("<!doctype html><title>SPA</title><p>a single page</p>")
    with static_pages(directory) as allowed, static_pages(directory) as other:
        yield allowed, other


@pytest.fixture(scope="module")
def server(production_site, origins) -> Iterator[Server]:
    allowed, _ = origins
    with production_server(production_site, CASHMAN_CORS_ALLOWED_ORIGINS=allowed) as server:
        yield server


@pytest.fixture
def browser(chromium):
    chromium.get_log("browser")  # drop what earlier tests left in the console
    return chromium


def wait(driver) -> WebDriverWait:
    return WebDriverWait(driver, WAIT_SECONDS)


def csp_violations(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def stylesheet_rules(driver, name: str) -> int:
    """How many rules the browser applied from the stylesheet whose URL contains `name`."""
    return driver.execute_script(
        "const sheet = [...document.styleSheets].find(s => (s.href || '').includes(arguments[0]));"
        "return sheet ? sheet.cssRules.length : 0;",
        name,
    )


class TestContentSecurityPolicy:
    def test_swagger_ui_lists_the_operations(self, browser, server):
        browser.get(f"{server.url}/api/docs/")
        wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
        operations = browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        paths = {operation.text.replace("\u200b", "") for operation in operations}
        assert "/api/v1/transactions/" in paths
        assert len(operations) > 20
        assert csp_violations(browser) == []

    def test_redoc_renders_the_api(self, browser, server):
        browser.get(f"{server.url}/api/redoc/")
        wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".api-content")))
        wait(browser).until(
            EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".api-content"), "Cashman API")
        )
        assert browser.find_elements(By.CSS_SELECTOR, "[data-section-id^='tag/']")
        assert csp_violations(browser) == []

    def test_the_admin_login_is_styled(self, browser, server):
        browser.get(f"{server.url}/admin/login/")
        wait(browser).until(EC.presence_of_element_located((By.ID, "login-form")))
        assert stylesheet_rules(browser, "admin/css/base") > 100
        assert stylesheet_rules(browser, "admin/css/login") > 0
        assert csp_violations(browser) == []

    def test_the_browsable_api_renders_and_runs_its_scripts(self, browser, server):
        browser.get(f"{server.url}/api/v1/")
        wait(browser).until(
            EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".response-info"), "HTTP 401")
        )
        assert stylesheet_rules(browser, "rest_framework/css/bootstrap") > 100
        assert browser.execute_script("return typeof window.jQuery") == "function"
        assert csp_violations(browser) == []

    def test_an_inline_script_would_be_refused_and_seen(self, browser, server):
        # The control: the checks above would notice a violation.
        browser.get(f"{server.url}/admin/login/")
        wait(browser).until(EC.presence_of_element_located((By.ID, "login-form")))
        ran = browser.execute_script(
            "const s = document.createElement('script');"
            "s.textContent = 'window.injected = true';"
            "document.body.appendChild(s);"
            "return window.injected === true;"
        )
        assert ran is False
        violations = csp_violations(browser)
        assert violations and "script-src" in violations[0]


FETCH_ME = """
const [url, token, done] = arguments;
fetch(url, {headers: {Authorization: "Bearer " + token}})
  .then(response => response.json())
  .then(body => done({ok: true, body: body}), error => done({ok: false, error: String(error)}));
"""


class TestCors:
    def test_the_allowed_origin_reads_the_api_with_a_bearer_token(self, browser, server, origins):
        allowed, _ = origins
        browser.get(f"{allowed}/index.html")
        result = browser.execute_async_script(
            FETCH_ME, f"{server.url}/api/v1/auth/me/", server.access_token()
        )
        assert result == {"ok": True, "body": result["body"]}
        assert result["body"]["email"] == SERVER_USER

    def test_another_origins_fetch_fails(self, browser, server, origins):
        _, other = origins
        browser.get(f"{other}/index.html")
        result = browser.execute_async_script(
            FETCH_ME, f"{server.url}/api/v1/auth/me/", server.access_token()
        )
        assert result["ok"] is False
        assert "Failed to fetch" in result["error"]
        console = " ".join(entry["message"] for entry in browser.get_log("browser"))
        assert "CORS policy" in console

"""Fixtures shared by every app's tests, and the markers that need a real service."""

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tokens import RefreshToken
from cashman_site import process_state


def _database_vendor() -> str:
    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]


def pytest_collection_modifyitems(config, items):
    """Skip, with the reason, the tests whose service is not configured.

    `.ci/run` sets CASHMAN_REQUIRE_SERVICES=1 and then fails on any such skip.
    """
    reasons = {}
    if _database_vendor() != "postgresql":
        reasons["postgres"] = "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if not os.environ.get("REDIS_URL"):
        reasons["redis"] = "needs Redis: set REDIS_URL=redis://..."
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        reasons["browser"] = "needs Debian's chromium and chromium-driver"
    required = os.environ.get("CASHMAN_REQUIRE_SERVICES") == "1"
    for item in items:
        for marker, reason in reasons.items():
            if marker in item.keywords:
                if required:
                    raise pytest.UsageError(
                        f"CASHMAN_REQUIRE_SERVICES=1 but {item.nodeid} {reason}"
                    )
                item.add_marker(pytest.mark.skip(reason=reason))


CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    # The network is closed: stop Chromium from trying to phone home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """One headless Chromium for the module (tests marked `browser`), with a fresh throw-away
    profile. Its console is readable with `driver.get_log("browser")` (CSP violations land there).

    Selenium Manager is never used: both binaries are given by path (the machine has no network).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=shutil.which("chromedriver"))
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counts (and anything else cached) never leak from one test into the next, nor does
    anything this process keeps in memory (cashman_site.process_state: every such cache)."""
    for forget in (cache.clear, process_state.reset):
        forget()
    yield
    for forget in (cache.clear, process_state.reset):
        forget()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


def bearer(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def auth_client(user) -> APIClient:
    """A client carrying a real JWT access token for `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


@pytest.fixture
def other_client(other_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(other_user))
    return client


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(staff_user))
    return client

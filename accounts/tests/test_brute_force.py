"""Brute force: failed logins are limited per account whatever the address (a window that ends
by itself), and the session logins (admin, browsable API) share auth/token/'s limits."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from rest_framework.settings import api_settings

from accounts.tests.factories import PASSWORD, UserFactory
from accounts.throttling import LoginAccountThrottle

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
ADMIN_LOGIN = "/admin/login/?next=/admin/"
API_LOGIN = "/api-auth/login/"
WRONG = "not-the-password-1"
# Five seconds into a fifteen-minute window (and a minute): fixed windows start afresh at their
# boundaries, so each test stands still inside one.
START = datetime(2026, 11, 2, 10, 0, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def rates(settings):
    """Set some throttle rates for this test: rates(login_account="3/15min")."""

    def set_rates(**scoped: str) -> None:
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **scoped}
        settings.REST_FRAMEWORK = rest
        assert rest["DEFAULT_THROTTLE_RATES"] == api_settings.DEFAULT_THROTTLE_RATES

    return set_rates


def token_login(client, email: str, password: str, address: str):
    return client.post(TOKEN, {"email": email, "password": password}, REMOTE_ADDR=address)


def form_login(client, url: str, email: str, password: str, address: str):
    return client.post(url, {"username": email, "password": password}, REMOTE_ADDR=address)


def addresses(count: int) -> list[str]:
    return [f"198.51.100.{i}" for i in range(1, count + 1)]


class TestFailedLoginsPerAccount:
    def test_are_limited_whatever_the_address(self, api_client, user, other_user, rates):
        rates(login_account="3/15min")
        answers = [token_login(api_client, user.email, WRONG, a) for a in addresses(3)]
        assert [a.status_code for a in answers] == [401, 401, 401]

        response = token_login(api_client, user.email, PASSWORD, "203.0.113.7")

        assert response.status_code == 429
        body = response.json()
        assert body["detail"].startswith("Too many failed logins for this account.")
        assert "access" not in body
        assert response["Retry-After"] == "895"  # the window ends at 10:15
        # Other accounts are not affected.
        assert token_login(api_client, other_user.email, PASSWORD, "203.0.113.7").status_code == 200

    def test_the_owner_gets_in_again_when_the_window_ends(self, api_client, user, rates, clock):
        rates(login_account="3/15min")
        for address in addresses(3):
            token_login(api_client, user.email, WRONG, address)
        assert token_login(api_client, user.email, PASSWORD, "203.0.113.7").status_code == 429

        clock.move_to(datetime(2026, 11, 2, 10, 15, 0, tzinfo=UTC), tick=False)

        assert token_login(api_client, user.email, PASSWORD, "203.0.113.7").status_code == 200

    def test_only_failures_count_and_a_success_resets_nothing(self, api_client, user, rates):
        rates(login_account="2/15min")
        owner = "203.0.113.7"
        signed_in = [token_login(api_client, user.email, PASSWORD, owner) for _ in range(3)]
        assert [response.status_code for response in signed_in] == [200] * 3
        assert token_login(api_client, user.email, WRONG, "198.51.100.1").status_code == 401
        assert token_login(api_client, user.email, PASSWORD, owner).status_code == 200
        assert token_login(api_client, user.email, WRONG, "198.51.100.2").status_code == 401
        # Over the limit: refused from an address the account never signed in from...
        assert token_login(api_client, user.email, PASSWORD, "203.0.113.99").status_code == 429
        # ...but not from the owner's own, so guesses from elsewhere cannot shut the owner out.
        assert token_login(api_client, user.email, PASSWORD, owner).status_code == 200

    def test_the_owners_known_address_is_not_refused_for_others_failures(
        self, client, api_client, user, rates
    ):
        rates(login_account="3/15min")
        home = "203.0.113.7"
        assert token_login(api_client, user.email, PASSWORD, home).status_code == 200
        for address in addresses(10):  # an attacker who knows the email, from many addresses
            token_login(api_client, user.email, WRONG, address)
        assert token_login(api_client, user.email, PASSWORD, "198.51.100.200").status_code == 429
        assert token_login(api_client, user.email, PASSWORD, home).status_code == 200
        assert form_login(client, API_LOGIN, user.email, PASSWORD, home).status_code == 302
        # The known address is still under the rules for its own failures.
        assert token_login(api_client, user.email, WRONG, home).status_code == 401

    def test_a_body_that_is_not_an_object_is_still_a_400(self, api_client):
        response = api_client.post(TOKEN, [1, 2], format="json")
        assert response.status_code == 400
        assert "Expected a dictionary" in response.json()["non_field_errors"][0]

    def test_the_emails_case_names_the_same_account(self, api_client, user, rates):
        rates(login_account="2/15min")
        token_login(api_client, user.email.upper(), WRONG, "198.51.100.1")
        token_login(api_client, f" {user.email.title()}", WRONG, "198.51.100.2")
        assert token_login(api_client, user.email, PASSWORD, "203.0.113.7").status_code == 429

    def test_failures_on_every_login_path_count(self, client, api_client, rates):
        rates(login_account="3/15min")
        staff = UserFactory(is_staff=True)
        first, second, third = addresses(3)
        assert form_login(client, ADMIN_LOGIN, staff.email, WRONG, first).status_code == 200
        assert form_login(client, API_LOGIN, staff.email, WRONG, second).status_code == 200
        assert token_login(api_client, staff.email, WRONG, third).status_code == 401

        for url in (ADMIN_LOGIN, API_LOGIN):
            response = form_login(client, url, staff.email, PASSWORD, "203.0.113.7")
            assert response.status_code == 429
            assert response["Content-Type"] == "text/plain; charset=utf-8"
            assert response.content.decode().startswith("Too many failed logins for this account.")
            assert response["Retry-After"] == "895"
        assert client.get("/admin/").status_code == 302  # still signed out


class TestSessionLoginsPerAddress:
    @pytest.mark.parametrize("url", [ADMIN_LOGIN, API_LOGIN])
    def test_posts_are_throttled_per_address(self, client, user, rates, url):
        rates(login="2/min")
        answers = [form_login(client, url, user.email, WRONG, "192.0.2.10") for _ in range(3)]

        assert [a.status_code for a in answers] == [200, 200, 429]
        throttled = answers[-1]
        assert throttled["Content-Type"] == "text/plain; charset=utf-8"
        assert "throttled" in throttled.content.decode().lower()
        assert throttled["Retry-After"] == "55"
        # Showing the form is not a login; another address has its own count.
        assert client.get(url, REMOTE_ADDR="192.0.2.10").status_code == 200
        assert form_login(client, url, user.email, WRONG, "192.0.2.11").status_code == 200

    def test_they_share_the_address_count_with_the_token_endpoint(
        self, client, api_client, user, rates
    ):
        rates(login="3/min")
        address = "192.0.2.10"
        assert token_login(api_client, user.email, PASSWORD, address).status_code == 200
        assert form_login(client, ADMIN_LOGIN, user.email, WRONG, address).status_code == 200
        assert form_login(client, API_LOGIN, user.email, PASSWORD, address).status_code == 302
        assert token_login(api_client, user.email, PASSWORD, address).status_code == 429
        assert form_login(client, ADMIN_LOGIN, user.email, PASSWORD, address).status_code == 429

    def test_a_right_password_still_signs_in_under_the_limits(self, client):
        staff = UserFactory(is_staff=True)
        response = form_login(client, ADMIN_LOGIN, staff.email, PASSWORD, "192.0.2.10")
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200


class TestRate:
    @pytest.mark.parametrize(
        ("rate", "parsed"),
        [("20/15min", (20, 900)), ("5/min", (5, 60)), ("3/2hour", (3, 7200)), ("1/d", (1, 86400))],
    )
    def test_a_number_of_periods_is_read(self, rate, parsed):
        assert LoginAccountThrottle().parse_rate(rate) == parsed

    @pytest.mark.parametrize("rate", ["20/fortnight", "x/min", "20"])
    def test_a_bad_rate_is_refused(self, rate):
        with pytest.raises(ImproperlyConfigured):
            LoginAccountThrottle().parse_rate(rate)

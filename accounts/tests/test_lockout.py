"""django-axes: repeated failed logins for one account from one address lock that pair out for
the cool-off; while locked, even the right password gets 429 and no token. Every login path."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
LIMIT = 3
WRONG = "not-the-password-1"


@pytest.fixture(autouse=True)
def _short_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=2)


def login(client, email: str, password: str, address: str = "192.0.2.10"):
    return client.post(TOKEN, {"email": email, "password": password}, REMOTE_ADDR=address)


def fail(client, email: str, times: int = LIMIT, address: str = "192.0.2.10") -> list[int]:
    return [login(client, email, WRONG, address).status_code for _ in range(times)]


def test_the_limit_th_failure_locks_and_then_the_right_password_gets_429(api_client, user):
    assert fail(api_client, user.email, LIMIT - 1) == [401] * (LIMIT - 1)
    locking = login(api_client, user.email, WRONG)
    assert locking.status_code == 429

    response = login(api_client, user.email, PASSWORD)

    assert response.status_code == 429
    body = response.json()
    assert "Too many failed logins" in body["detail"]
    assert "access" not in body and "refresh" not in body
    assert int(response["Retry-After"]) == 120


def test_the_lockout_is_per_account_and_address(api_client, user, other_user):
    fail(api_client, user.email)
    # The same account from another address, and another account from the same address, pass.
    assert login(api_client, user.email, PASSWORD, address="192.0.2.99").status_code == 200
    assert login(api_client, other_user.email, PASSWORD).status_code == 200
    assert login(api_client, user.email, PASSWORD).status_code == 429


def test_changing_the_emails_case_does_not_dodge_the_count(api_client, user):
    emails = [user.email.upper(), user.email.title(), f"  {user.email} "]
    assert [login(api_client, email, WRONG).status_code for email in emails] == [401, 401, 429]
    assert login(api_client, user.email, PASSWORD).status_code == 429


def test_a_success_before_the_limit_resets_the_count(api_client, user):
    fail(api_client, user.email, LIMIT - 1)
    assert login(api_client, user.email, PASSWORD).status_code == 200
    assert fail(api_client, user.email, LIMIT - 1) == [401] * (LIMIT - 1)
    assert login(api_client, user.email, PASSWORD).status_code == 200


def test_the_lockout_ends_after_the_cool_off(api_client, user):
    fail(api_client, user.email)
    assert login(api_client, user.email, PASSWORD).status_code == 429

    # Move the recorded attempts back past the cool-off, as the clock would: axes compares
    # their attempt_time with now minus AXES_COOLOFF_TIME.
    attempts = AccessAttempt.objects.filter(username=user.email)
    assert attempts.count() == 1
    attempts.update(attempt_time=attempts.get().attempt_time - timedelta(minutes=2, seconds=1))

    assert login(api_client, user.email, PASSWORD).status_code == 200


def test_a_forged_x_forwarded_for_does_not_dodge_the_lockout(api_client, user):
    answers = [
        api_client.post(
            TOKEN,
            {"email": user.email, "password": WRONG},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(LIMIT)
    ]
    assert answers == [401] * (LIMIT - 1) + [429]


def test_the_admin_login_is_locked_out_too(client):
    staff = UserFactory(is_staff=True)

    def admin_login(password: str):
        return client.post(
            "/admin/login/?next=/admin/", {"username": staff.email, "password": password}
        )

    assert [admin_login(WRONG).status_code for _ in range(LIMIT - 1)] == [200] * (LIMIT - 1)
    assert admin_login(WRONG).status_code == 429
    response = admin_login(PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still signed out


def test_the_browsable_api_login_is_locked_out_too(client, user):
    def api_login(password: str):
        return client.post("/api-auth/login/", {"username": user.email, "password": password})

    assert [api_login(WRONG).status_code for _ in range(LIMIT - 1)] == [200] * (LIMIT - 1)
    assert api_login(WRONG).status_code == 429
    assert api_login(PASSWORD).status_code == 429
    assert client.get(reverse("auth-me")).status_code in (401, 403)


def test_the_lockout_is_recorded_without_the_password(api_client, user):
    fail(api_client, user.email)
    attempt = AccessAttempt.objects.get(username=user.email)
    assert attempt.ip_address == "192.0.2.10"
    assert WRONG not in attempt.post_data

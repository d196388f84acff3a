"""Refresh token reuse: a refresh token used after it was rotated or logged out revokes every
token of its login (its family), and only those (OAuth 2.0 Security BCP, RFC 9700 4.14.2)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import RevokedTokenFamily, User
from accounts.services import tokens_purge_expired
from accounts.tests.factories import PASSWORD
from accounts.tokens import FAMILY_CLAIM, RefreshToken

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
LOGOUT = reverse("auth-logout")
ME = reverse("auth-me")


def login(user) -> dict:
    response = APIClient().post(TOKEN, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str):
    return APIClient().post(REFRESH, {"refresh": token})


def rotate(token: str) -> dict:
    response = refresh(token)
    assert response.status_code == 200, response.content
    return response.json()


def me(access: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME).status_code


def test_reusing_a_rotated_token_is_401_and_kills_its_successor(user):
    a = login(user)
    b = rotate(a["refresh"])
    assert me(b["access"]) == 200

    reuse = refresh(a["refresh"])

    assert reuse.status_code == 401
    assert reuse.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}
    answer = refresh(b["refresh"])
    assert answer.status_code == 401
    assert answer.json()["code"] == "token_revoked"
    assert "used after it was replaced" in answer.json()["detail"]
    assert me(b["access"]) == 401
    assert me(a["access"]) == 401


def test_every_descendant_of_the_login_is_revoked(user):
    a = login(user)
    b = rotate(a["refresh"])
    c = rotate(b["refresh"])

    assert refresh(b["refresh"]).status_code == 401

    assert refresh(c["refresh"]).status_code == 401
    assert me(c["access"]) == 401


def test_the_users_other_logins_keep_working(user, other_user):
    phone, laptop, stranger = login(user), login(user), login(other_user)
    rotate(phone["refresh"])

    assert refresh(phone["refresh"]).status_code == 401

    for tokens in (laptop, stranger):
        assert me(tokens["access"]) == 200
        assert me(rotate(tokens["refresh"])["access"]) == 200
    assert me(login(user)["access"]) == 200


def test_reusing_a_logged_out_token_revokes_its_login_too(user):
    b = rotate(login(user)["refresh"])
    other = login(user)
    assert APIClient().post(LOGOUT, {"refresh": b["refresh"]}).status_code == 204
    assert me(b["access"]) == 200  # logging out ends the refresh token only

    assert refresh(b["refresh"]).status_code == 401

    assert me(b["access"]) == 401
    assert me(other["access"]) == 200
    assert refresh(other["refresh"]).status_code == 200


def test_a_token_from_before_families_starts_one_at_its_first_refresh(user):
    legacy = RefreshToken.for_user(user)
    del legacy[FAMILY_CLAIM]
    successor = rotate(str(legacy))

    assert refresh(str(legacy)).status_code == 401

    assert refresh(successor["refresh"]).status_code == 401
    assert me(successor["access"]) == 401


def test_access_tokens_issued_after_a_revocation_cost_no_extra_query(
    user, time_machine, django_assert_num_queries
):
    a = login(user)
    rotate(a["refresh"])
    assert refresh(a["refresh"]).status_code == 401
    user.refresh_from_db()
    assert user.token_families_revoked_at is not None

    time_machine.move_to(timezone.now() + timedelta(minutes=2), tick=False)
    access = str(RefreshToken.for_user(User.objects.get(pk=user.pk)).access_token)
    with django_assert_num_queries(1):  # the user row only
        assert me(access) == 200


def test_the_purge_deletes_families_whose_tokens_all_expired(user):
    a = login(user)
    rotate(a["refresh"])
    refresh(a["refresh"])
    family = RevokedTokenFamily.objects.get()
    assert family.user == user

    tokens_purge_expired(now=family.expires_at - timedelta(seconds=1))
    assert RevokedTokenFamily.objects.exists()
    tokens_purge_expired(now=family.expires_at)
    assert not RevokedTokenFamily.objects.exists()

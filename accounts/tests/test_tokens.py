"""The token lifecycle: revocation on password change and deactivation, forged and misused
tokens, the concurrent-refresh race, and the purge of expired tokens."""

import base64
import json
import threading
from datetime import timedelta
from io import StringIO

import jwt
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from accounts.services import user_create
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tokens import RefreshToken
from ledger.cached_reads import ledgers_changed

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
ME = reverse("auth-me")
PASSWORD_URL = reverse("auth-password")
NEW_PASSWORD = "another-Long-passphrase-7"


def login(client: APIClient, email: str, password: str = PASSWORD) -> dict:
    response = client.post(TOKEN, {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def me(access: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME).status_code


def refresh(token: str) -> int:
    return APIClient().post(REFRESH, {"refresh": token}).status_code


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def admin_login(client, staff_user) -> None:
    """Sign the Django test client in to the admin as a superuser (users' passwords and flags)."""
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)


class TestRevocation:
    def test_a_password_change_kills_every_earlier_access_and_refresh_token(self, api_client, user):
        phone, laptop = login(api_client, user.email), login(api_client, user.email)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
        changed = api_client.post(
            PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert changed.status_code == 204

        for tokens in (phone, laptop):
            assert me(tokens["access"]) == 401
            assert refresh(tokens["refresh"]) == 401
        fresh = login(APIClient(), user.email, NEW_PASSWORD)
        assert me(fresh["access"]) == 200
        assert refresh(fresh["refresh"]) == 200

    def test_the_revoked_answer_says_why(self, api_client, user):
        access = login(api_client, user.email)["access"]
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        api_client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
        body = api_client.get(ME).json()
        assert body["code"] == "token_revoked"

    def test_manage_py_changepassword_kills_the_tokens(self, api_client, user, monkeypatch):
        tokens = login(api_client, user.email)
        # The command reads the new password twice from the terminal.
        monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
        call_command("changepassword", user.email, stdout=StringIO())
        assert me(tokens["access"]) == 401
        assert refresh(tokens["refresh"]) == 401
        assert me(login(APIClient(), user.email, NEW_PASSWORD)["access"]) == 200

    def test_any_saved_password_change_kills_the_tokens(self, api_client, user):
        tokens = login(api_client, user.email)
        user.set_password(NEW_PASSWORD)
        user.save()
        assert me(tokens["access"]) == 401
        assert refresh(tokens["refresh"]) == 401

    def test_a_new_user_and_other_edits_revoke_nothing(self, api_client):
        user = user_create(email="ada@example.com", password=PASSWORD)
        assert user.token_generation == 0
        tokens = login(api_client, user.email)
        user.first_name = "Ada"
        user.save()
        assert me(tokens["access"]) == 200

    def test_a_save_from_an_instance_read_earlier_undoes_no_raise(self, api_client, user):
        """Say a request's user, loaded before a password change and a ledger write elsewhere,
        is saved after them: the counters those raised stay raised."""
        tokens = login(api_client, user.email)
        stale = User.objects.get(pk=user.pk)
        user.set_password(NEW_PASSWORD)
        user.save()
        ledgers_changed(ledger_ids=[user.personal_ledger.pk])  # a write of the user's ledger
        raised = User.objects.values("token_generation", "ledger_generation").get(pk=user.pk)
        assert raised == {
            "token_generation": stale.token_generation + 1,
            "ledger_generation": stale.ledger_generation + 1,
        }
        stale.first_name = "Ada"
        stale.save()
        assert User.objects.values("first_name", *raised).get(pk=user.pk) == {
            "first_name": "Ada",
            **raised,
        }
        assert me(tokens["access"]) == 401

    def test_the_hash_upgrade_at_a_login_revokes_nothing(self, api_client, settings):
        # Django re-hashes a password with the preferred hasher when one signs in; that saves
        # the password but does not change it.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        old_hash = UserFactory(email="ada@example.com")
        generation = old_hash.token_generation
        earlier = login(api_client, old_hash.email)
        settings.PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.MD5PasswordHasher",
        ]
        login(api_client, old_hash.email)
        old_hash.refresh_from_db()
        assert old_hash.password.startswith("pbkdf2_sha256$")
        assert old_hash.token_generation == generation
        assert me(earlier["access"]) == 200

    def test_a_password_change_in_the_admin_kills_the_tokens(self, client, user, staff_user):
        tokens = login(APIClient(), user.email)
        admin_login(client, staff_user)
        response = client.post(
            reverse("admin:auth_user_password_change", args=[user.pk]),
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        )
        assert response.status_code == 302, response.content
        assert me(tokens["access"]) == 401
        assert refresh(tokens["refresh"]) == 401

    def test_disabling_password_sign_in_in_the_admin_kills_the_tokens(
        self, client, user, staff_user
    ):
        tokens = login(APIClient(), user.email)
        admin_login(client, staff_user)
        response = client.post(
            reverse("admin:auth_user_password_change", args=[user.pk]),
            {"usable_password": "false", "unset-password": "1"},  # the "disable" button
        )
        assert response.status_code == 302, response.content
        user.refresh_from_db()
        assert not user.has_usable_password()
        assert me(tokens["access"]) == 401
        assert refresh(tokens["refresh"]) == 401

    def test_unticking_active_in_the_admin_kills_the_tokens_for_good(
        self, client, user, staff_user
    ):
        tokens = login(APIClient(), user.email)
        admin_login(client, staff_user)
        change = f"/admin/accounts/user/{user.pk}/change/"
        form = {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
        assert client.post(change, form).status_code == 302  # is_active left unticked
        user.refresh_from_db()
        assert not user.is_active
        assert client.post(change, {**form, "is_active": "on"}).status_code == 302
        assert me(tokens["access"]) == 401
        assert refresh(tokens["refresh"]) == 401

    def test_checking_revocation_costs_no_extra_query(self, user, django_assert_num_queries):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        with django_assert_num_queries(1):  # the user row simplejwt loads anyway
            assert client.get(ME).status_code == 200


class TestForgedAndMisusedTokens:
    def test_alg_none_is_401(self, user):
        genuine = jwt.decode(
            str(RefreshToken.for_user(user).access_token), options={"verify_signature": False}
        )
        unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(genuine)}."
        assert me(unsigned) == 401

    def test_a_payload_changed_to_another_user_is_401(self, user, other_user):
        header, payload, signature = str(RefreshToken.for_user(user).access_token).split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["user_id"] = str(other_user.pk)
        assert me(f"{header}.{b64(claims)}.{signature}") == 401

    def test_a_token_signed_with_another_key_is_401(self, user):
        claims = jwt.decode(
            str(RefreshToken.for_user(user).access_token), options={"verify_signature": False}
        )
        forged = jwt.encode(claims, "not-the-signing-key-" * 3, algorithm="HS256")
        assert me(forged) == 401

    def test_a_refresh_token_is_not_an_access_token(self, user):
        assert me(str(RefreshToken.for_user(user))) == 401

    def test_an_access_token_is_not_a_refresh_token(self, user):
        assert refresh(str(RefreshToken.for_user(user).access_token)) == 401

    def test_an_expired_access_token_is_401(self, user):
        access = RefreshToken.for_user(user).access_token
        access.set_exp(from_time=timezone.now() - timedelta(hours=1))
        assert me(str(access)) == 401

    def test_a_deleted_users_token_is_401(self):
        user = UserFactory()
        tokens = RefreshToken.for_user(user)
        user.delete()
        assert me(str(tokens.access_token)) == 401
        assert refresh(str(tokens)) == 401


class TestUserLookup:
    """Authentication reads the token's user with a statement compiled once
    (`accounts.selectors.user_by_id`); the answers are simplejwt's."""

    def answer(self, access) -> tuple[int, object]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        response = client.get(ME)
        return response.status_code, response.json()

    def test_each_token_reads_its_own_user(self, user, other_user):
        for owner in (user, other_user):
            status, body = self.answer(RefreshToken.for_user(owner).access_token)
            assert (status, body["email"]) == (200, owner.email)

    def test_an_integer_claim_is_read_by_simplejwt_with_the_same_answer(self, user):
        access = RefreshToken.for_user(user).access_token
        assert access["user_id"] == str(user.pk)  # what simplejwt writes
        access["user_id"] = user.pk
        status, body = self.answer(access)
        assert (status, body["email"]) == (200, user.email)

    def test_an_inactive_user_is_401(self, user):
        access = RefreshToken.for_user(user).access_token
        User.objects.filter(pk=user.pk).update(is_active=False)  # no other change
        status, body = self.answer(access)
        assert (status, body["code"]) == (401, "user_inactive")

    def test_a_missing_user_is_401(self, user):
        access = RefreshToken.for_user(user).access_token
        access["user_id"] = str(User.objects.order_by("-pk").first().pk + 1)
        status, body = self.answer(access)
        assert (status, body["code"]) == (401, "user_not_found")


class TestVerifiedTokens:
    def test_a_token_is_verified_once_and_its_expiry_checked_at_every_use(self, user, monkeypatch):
        decodes = []
        decode = TokenBackend.decode
        monkeypatch.setattr(
            TokenBackend, "decode", lambda *args, **kw: decodes.append(1) or decode(*args, **kw)
        )
        access = RefreshToken.for_user(user).access_token
        access.set_exp(from_time=timezone.now(), lifetime=timedelta(minutes=1))
        assert [me(str(access)) for _ in range(3)] == [200, 200, 200]
        assert len(decodes) == 1
        later = timezone.now() + timedelta(minutes=2)
        monkeypatch.setattr("accounts.authentication.aware_utcnow", lambda: later)
        monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: later)
        assert me(str(access)) == 401

    def test_a_remembered_token_is_still_revoked(self, api_client, user):
        tokens = login(api_client, user.email)
        assert me(tokens["access"]) == 200  # verified, and remembered
        user.set_password(NEW_PASSWORD)
        user.save()
        assert me(tokens["access"]) == 401


class TestRefreshRace:
    def test_a_refresh_token_works_once(self, user):
        token = str(RefreshToken.for_user(user))
        assert [refresh(token), refresh(token)] == [200, 401]

    @pytest.mark.postgres
    @pytest.mark.django_db(transaction=True)
    def test_concurrent_refreshes_with_one_token_let_at_most_one_through(self):
        """simplejwt issue 985: its check-then-blacklist lets two racing refreshes both win."""
        user = UserFactory()
        token = str(RefreshToken.for_user(user))
        racers = 8
        barrier = threading.Barrier(racers)
        statuses: list[int] = []

        def race() -> None:
            try:
                barrier.wait()
                statuses.append(refresh(token))
            finally:
                connection.close()  # each thread has its own connection

        threads = [threading.Thread(target=race) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(statuses) == [200] + [401] * (racers - 1)
        assert BlacklistedToken.objects.filter(token__user=user).count() == 1


class TestPurge:
    def test_purge_expired_tokens_deletes_only_expired_ones(self, user):
        live = RefreshToken.for_user(user)
        dead = RefreshToken.for_user(user)
        dead.blacklist()
        OutstandingToken.objects.filter(jti=dead["jti"]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        out = StringIO()

        call_command("purge_expired_tokens", stdout=out)

        assert "Deleted 1 expired refresh token" in out.getvalue()
        assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
        assert not BlacklistedToken.objects.exists()
        assert refresh(str(live)) == 200

import pytest
from django.urls import reverse
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

REGISTER = reverse("auth-register")
TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
LOGOUT = reverse("auth-logout")
ME = reverse("auth-me")
PASSWORD_URL = reverse("auth-password")

pytestmark = pytest.mark.django_db


def _tokens(api_client, email, password=PASSWORD) -> dict:
    response = api_client.post(TOKEN, {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


class TestRegister:
    def test_creates_a_user_and_never_returns_the_password(self, api_client):
        response = api_client.post(
            REGISTER,
            {"email": "Ada@Example.com", "password": PASSWORD, "first_name": "Ada"},
        )
        assert response.status_code == 201
        body = response.json()
        assert body["email"] == "ada@example.com"
        assert body["first_name"] == "Ada"
        assert "password" not in body
        assert PASSWORD not in response.content.decode()
        user = User.objects.get(email="ada@example.com")
        assert user.check_password(PASSWORD)
        assert not user.is_staff

    def test_a_taken_email_in_another_case_is_refused(self, api_client, user):
        response = api_client.post(REGISTER, {"email": user.email.upper(), "password": PASSWORD})
        assert response.status_code == 400
        assert "email" in response.json()
        assert User.objects.count() == 1

    @pytest.mark.parametrize("password", ["short", "12345678901", "password123"])
    def test_a_weak_password_is_refused_with_a_field_error(self, api_client, password):
        response = api_client.post(REGISTER, {"email": "new@example.com", "password": password})
        assert response.status_code == 400
        assert "password" in response.json()
        assert not User.objects.exists()

    def test_a_password_like_the_email_is_refused(self, api_client):
        response = api_client.post(
            REGISTER,
            {"email": "zanzibar.lighthouse@example.com", "password": "zanzibar.lighthouse"},
        )
        assert response.status_code == 400
        assert "password" in response.json()

    def test_missing_fields_are_named(self, api_client):
        response = api_client.post(REGISTER, {})
        assert response.status_code == 400
        assert set(response.json()) == {"email", "password"}

    def test_an_invalid_email_is_refused(self, api_client):
        response = api_client.post(REGISTER, {"email": "not-an-email", "password": PASSWORD})
        assert response.status_code == 400
        assert "email" in response.json()

    def test_staff_flags_in_the_body_are_ignored(self, api_client):
        response = api_client.post(
            REGISTER,
            {
                "email": "sneaky@example.com",
                "password": PASSWORD,
                "is_staff": True,
                "is_superuser": True,
            },
        )
        assert response.status_code == 201
        user = User.objects.get(email="sneaky@example.com")
        assert not user.is_staff and not user.is_superuser


class TestToken:
    def test_right_credentials_give_an_access_and_a_refresh_token(self, api_client, user):
        body = _tokens(api_client, user.email.upper())
        assert set(body) == {"access", "refresh"}

    def test_wrong_password_is_401(self, api_client, user):
        response = api_client.post(TOKEN, {"email": user.email, "password": "wrong-password-1"})
        assert response.status_code == 401
        assert "detail" in response.json()

    def test_unknown_email_is_401(self, api_client):
        response = api_client.post(TOKEN, {"email": "nobody@example.com", "password": PASSWORD})
        assert response.status_code == 401

    def test_inactive_user_gets_no_token(self, api_client):
        user = UserFactory(is_active=False)
        response = api_client.post(TOKEN, {"email": user.email, "password": PASSWORD})
        assert response.status_code == 401


class TestTokenLifecycle:
    def test_the_newcomers_walk(self, api_client):
        """Register, get a token, call me, refresh, log out, and be refused with the dead token."""
        api_client.post(REGISTER, {"email": "walker@example.com", "password": PASSWORD})
        tokens = _tokens(api_client, "walker@example.com")

        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        me = api_client.get(ME)
        assert me.status_code == 200
        assert me.json()["email"] == "walker@example.com"
        api_client.credentials()

        refreshed = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
        assert refreshed.status_code == 200
        assert set(refreshed.json()) == {"access", "refresh"}
        new_refresh = refreshed.json()["refresh"]
        assert new_refresh != tokens["refresh"]

        assert api_client.post(LOGOUT, {"refresh": new_refresh}).status_code == 204
        dead = api_client.post(REFRESH, {"refresh": new_refresh})
        assert dead.status_code == 401
        assert dead.json()["code"] == "token_not_valid"

    def test_a_rotated_refresh_token_cannot_be_used_again(self, api_client, user):
        tokens = _tokens(api_client, user.email)
        assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 200
        assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401

    def test_logging_out_twice_is_401(self, api_client, user):
        refresh = _tokens(api_client, user.email)["refresh"]
        assert api_client.post(LOGOUT, {"refresh": refresh}).status_code == 204
        assert api_client.post(LOGOUT, {"refresh": refresh}).status_code == 401

    def test_logout_with_garbage_is_401_and_without_a_token_400(self, api_client):
        assert api_client.post(LOGOUT, {"refresh": "garbage"}).status_code == 401
        assert api_client.post(LOGOUT, {}).status_code == 400

    def test_an_access_token_is_not_a_refresh_token(self, api_client, user):
        access = _tokens(api_client, user.email)["access"]
        assert api_client.post(REFRESH, {"refresh": access}).status_code == 401

    def test_refresh_of_a_deleted_user_is_401(self, api_client):
        user = UserFactory()
        refresh = str(RefreshToken.for_user(user))
        user.delete()
        response = api_client.post(REFRESH, {"refresh": refresh})
        assert response.status_code == 401

    def test_a_deactivated_user_is_refused_at_once(self, api_client, user):
        tokens = _tokens(api_client, user.email)
        user.is_active = False
        user.save()
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        assert api_client.get(ME).status_code == 401
        api_client.credentials()
        assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401

    def test_a_tampered_access_token_is_401(self, api_client, user):
        access = _tokens(api_client, user.email)["access"]
        header, payload, signature = access.split(".")
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.{signature[::-1]}")
        assert api_client.get(ME).status_code == 401


class TestMe:
    def test_anonymous_is_401_json(self, api_client):
        response = api_client.get(ME)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"

    def test_read_and_edit_ones_profile(self, auth_client, user):
        response = auth_client.patch(ME, {"first_name": "Grace", "last_name": "Hopper"})
        assert response.status_code == 200
        assert response.json()["first_name"] == "Grace"
        user.refresh_from_db()
        assert (user.first_name, user.last_name) == ("Grace", "Hopper")

    def test_cannot_make_oneself_staff(self, auth_client, user):
        response = auth_client.patch(ME, {"is_staff": True})
        assert response.status_code == 200
        user.refresh_from_db()
        assert not user.is_staff

    def test_cannot_take_someone_elses_email(self, auth_client, user, other_user):
        response = auth_client.patch(ME, {"email": other_user.email.upper()})
        assert response.status_code == 400
        user.refresh_from_db()
        assert user.email != other_user.email


class TestPasswordChange:
    def test_change_with_the_current_password(self, auth_client, api_client, user):
        new = "another-Long-passphrase-7"
        response = auth_client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": new})
        assert response.status_code == 204
        assert (
            api_client.post(TOKEN, {"email": user.email, "password": PASSWORD}).status_code == 401
        )
        assert api_client.post(TOKEN, {"email": user.email, "password": new}).status_code == 200

    def test_wrong_current_password_is_400_and_changes_nothing(self, auth_client, user):
        response = auth_client.post(
            PASSWORD_URL, {"old_password": "not-it-at-all", "new_password": "x-Long-passphrase-9"}
        )
        assert response.status_code == 400
        assert "old_password" in response.json()
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_weak_new_password_is_400(self, auth_client, user):
        response = auth_client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": "123"})
        assert response.status_code == 400
        assert "new_password" in response.json()
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_session_user_stays_signed_in_after_changing(self, client, user):
        client.force_login(user)
        new = "another-Long-passphrase-7"
        response = client.post(
            PASSWORD_URL,
            {"old_password": PASSWORD, "new_password": new},
            content_type="application/json",
        )
        assert response.status_code == 204
        assert client.get(ME).status_code == 200


def test_registering_sends_a_welcome_email(
    api_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            REGISTER, {"email": "new@example.com", "password": PASSWORD, "first_name": "Ada"}
        )
    assert response.status_code == 201
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new@example.com"]
    assert mail.subject == "Welcome to Cashman"
    assert "Hello Ada" in mail.body
    assert PASSWORD not in mail.body


def test_a_refused_registration_sends_nothing(
    api_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(REGISTER, {"email": "new@example.com", "password": "123"})
    assert mailoutbox == []

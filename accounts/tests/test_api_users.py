import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import bearer

pytestmark = pytest.mark.django_db

USERS = reverse("api:user-list")


def detail(user, action=None) -> str:
    if action:
        return reverse(f"api:user-{action}", args=[user.pk])
    return reverse("api:user-detail", args=[user.pk])


class TestStaffOnly:
    def test_anonymous_is_401(self, api_client):
        assert api_client.get(USERS).status_code == 401

    def test_a_plain_user_is_403_everywhere(self, auth_client, other_user):
        assert auth_client.get(USERS).status_code == 403
        assert auth_client.get(detail(other_user)).status_code == 403
        assert (
            auth_client.post(USERS, {"email": "x@example.com", "password": PASSWORD}).status_code
            == 403
        )
        assert auth_client.post(detail(other_user, "deactivate")).status_code == 403
        other_user.refresh_from_db()
        assert other_user.is_active


class TestStaff:
    def test_list_and_retrieve_without_passwords(self, staff_client, user):
        response = staff_client.get(USERS)
        assert response.status_code == 200
        emails = {row["email"] for row in response.json()["results"]}
        assert user.email in emails
        assert "password" not in response.json()["results"][0]
        assert staff_client.get(detail(user)).json()["email"] == user.email

    def test_create(self, staff_client):
        response = staff_client.post(
            USERS, {"email": "Made@Example.com", "password": PASSWORD, "first_name": "M"}
        )
        assert response.status_code == 201
        assert User.objects.get(email="made@example.com").check_password(PASSWORD)

    def test_create_refuses_a_weak_password(self, staff_client):
        response = staff_client.post(USERS, {"email": "w@example.com", "password": "abc"})
        assert response.status_code == 400
        assert "password" in response.json()

    def test_deactivate_kills_the_users_tokens_at_once(self, staff_client, api_client, user):
        api_client.credentials(HTTP_AUTHORIZATION=bearer(user))
        assert api_client.get(reverse("auth-me")).status_code == 200

        response = staff_client.post(detail(user, "deactivate"))
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert api_client.get(reverse("auth-me")).status_code == 401

        # Activating the account again does not bring the old tokens back; a new login works.
        assert staff_client.post(detail(user, "activate")).json()["is_active"] is True
        assert api_client.get(reverse("auth-me")).status_code == 401
        user.refresh_from_db()
        api_client.credentials(HTTP_AUTHORIZATION=bearer(user))
        assert api_client.get(reverse("auth-me")).status_code == 200

    def test_cannot_deactivate_oneself(self, staff_client, staff_user):
        assert staff_client.post(detail(staff_user, "deactivate")).status_code == 400
        staff_user.refresh_from_db()
        assert staff_user.is_active

    def test_unknown_user_is_404(self, staff_client):
        assert staff_client.get(reverse("api:user-detail", args=[999999])).status_code == 404

    def test_delete_is_not_allowed(self, staff_client, user):
        response = staff_client.delete(detail(user))
        assert response.status_code == 405
        assert User.objects.filter(pk=user.pk).exists()


def test_emails_are_unique_whatever_their_case_in_the_database(db):
    from django.db import IntegrityError, transaction

    UserFactory(email="case@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="CASE@example.com", password="!")])

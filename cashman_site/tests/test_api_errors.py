"""Every answer under /api/ is JSON, whatever the client got wrong."""

import pytest
from django.test import override_settings
from django.urls import path, reverse
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from cashman_site.exception_handler import SERVER_ERROR_MESSAGE
from cashman_site.urls import urlpatterns as project_urls

pytestmark = pytest.mark.django_db

EXPENSES = "/api/v1/expenses/"


def assert_json(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_path_is_json_404_even_with_debug(auth_client, settings, debug):
    settings.DEBUG = debug
    assert "detail" in assert_json(auth_client.get("/api/v1/nope/"), 404)
    assert_json(auth_client.get("/api/nothing-here"), 404)
    assert_json(auth_client.post("/api/v1/expenses"), 404)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_a_write_to_a_malformed_id_is_json_404_not_a_csrf_page(auth_client, method):
    # Found by schemathesis: `/expenses/1.5/` matches no route, and the catch-all 404 view was
    # not CSRF-exempt, so a bearer-token write got Django's HTML 403 page.
    response = auth_client.generic(method, "/api/v1/expenses/1.5/", "{}", "application/json")
    assert_json(response, 404)


def test_wrong_method_is_json_405(auth_client):
    body = assert_json(auth_client.put(reverse("api:summary-list")), 405)
    assert "PUT" in body["detail"]


def test_unparseable_json_is_400(auth_client):
    response = auth_client.generic("POST", EXPENSES, "{not json", content_type="application/json")
    assert "detail" in assert_json(response, 400)


def test_unsupported_media_type_is_415(auth_client):
    response = auth_client.generic("POST", EXPENSES, "<a/>", content_type="application/xml")
    assert "detail" in assert_json(response, 415)


def test_a_json_body_that_is_not_an_object_is_400(auth_client):
    response = auth_client.generic("POST", EXPENSES, "[1, 2]", content_type="application/json")
    assert_json(response, 400)


def test_an_unsupported_accept_is_406_json(auth_client):
    response = auth_client.get(EXPENSES, HTTP_ACCEPT="application/xml")
    assert "detail" in assert_json(response, 406)


@api_view(["GET"])
@permission_classes([AllowAny])
def _boom(request):
    raise RuntimeError("secret internals")


urlpatterns = [path("api/v1/boom/", _boom), *project_urls]


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_generic_json_without_a_traceback(client):
    response = client.get("/api/v1/boom/", HTTP_X_REQUEST_ID="req-boom-1")
    body = assert_json(response, 500)
    # The id the traceback was logged under, to quote to an operator; nothing else.
    assert body == {"detail": SERVER_ERROR_MESSAGE, "request_id": "req-boom-1"}
    assert response["X-Request-ID"] == "req-boom-1"
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_session_without_csrf_token_is_403_json(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(
        EXPENSES, {"description": "x", "amount": "1"}, content_type="application/json"
    )
    assert "CSRF" in assert_json(response, 403)["detail"]


def test_browsable_api_renders_for_a_signed_in_browser(client, user):
    client.force_login(user)
    response = client.get(EXPENSES, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Expense List" in response.content
    assert b'name="amount"' in response.content


def test_browsable_api_login_page_uses_the_email(client, user):
    from accounts.tests.factories import PASSWORD

    response = client.post(
        "/api-auth/login/", {"username": user.email, "password": PASSWORD, "next": "/api/v1/"}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/auth/me/").json()["email"] == user.email

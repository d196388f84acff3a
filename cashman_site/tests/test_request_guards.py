"""What guards every request: CORS, the size limits, the CSP header, and the request log."""

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import PASSWORD
from cashman_site.logging import JsonFormatter
from cashman_site.tests.servers import production_server
from ledger.models import Transaction

pytestmark = pytest.mark.django_db

ME = reverse("auth-me")
TOKEN = reverse("auth-token")
EXPENSES = "/api/v1/expenses/"
SPA = "https://app.example.com"


def preflight(client, origin: str):
    return client.options(
        ME,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


class TestCors:
    def test_no_origin_is_allowed_by_default(self, client, settings):
        assert settings.CORS_ALLOWED_ORIGINS == []
        response = preflight(client, SPA)
        assert "Access-Control-Allow-Origin" not in response

    def test_a_preflight_with_authorization_succeeds_for_an_allowed_origin(self, client, settings):
        settings.CORS_ALLOWED_ORIGINS = [SPA]
        response = preflight(client, SPA)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == SPA
        assert "authorization" in response["Access-Control-Allow-Headers"]
        assert "GET" in response["Access-Control-Allow-Methods"]

    def test_a_preflight_from_another_origin_gets_no_grant(self, client, settings):
        settings.CORS_ALLOWED_ORIGINS = [SPA]
        response = preflight(client, "https://evil.example.net")
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Headers" not in response

    def test_the_actual_request_exposes_the_rate_limit_and_request_id(self, auth_client, settings):
        settings.CORS_ALLOWED_ORIGINS = [SPA]
        response = auth_client.get(ME, HTTP_ORIGIN=SPA)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == SPA
        exposed = response["Access-Control-Expose-Headers"].lower()
        assert "x-ratelimit-remaining" in exposed and "x-request-id" in exposed

    def test_cors_is_only_for_the_api(self, client, settings):
        settings.CORS_ALLOWED_ORIGINS = [SPA]
        response = client.get("/admin/login/", HTTP_ORIGIN=SPA)
        assert "Access-Control-Allow-Origin" not in response


class TestBodySize:
    def test_a_json_body_over_the_limit_is_413_json(self, auth_client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        body = json.dumps({"description": "x" * 2000, "amount": "1"})
        response = auth_client.generic("POST", EXPENSES, body, content_type="application/json")
        assert response.status_code == 413
        assert response["Content-Type"] == "application/json"
        assert "larger" in response.json()["detail"]

    def test_a_body_within_the_limit_is_served(self, auth_client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        response = auth_client.post(EXPENSES, {"description": "pizza", "amount": "5"})
        assert response.status_code == 201

    def test_an_oversized_body_is_413_before_authentication(self, api_client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
        response = api_client.generic(
            "POST", TOKEN, json.dumps({"email": "a" * 200}), content_type="application/json"
        )
        assert response.status_code == 413

    def test_a_form_over_the_limit_outside_the_api_is_413_too(self, client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
        response = client.post("/admin/login/", {"username": "u" * 200, "password": "p"})
        assert response.status_code == 413
        assert response["Content-Type"].startswith("text/plain")

    def test_an_import_file_may_be_larger_up_to_its_own_limit(self, auth_client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        settings.CASHMAN_IMPORT_MAX_BYTES = 10_000
        rows = "".join(f"2026-11-01,row {i},-1.00\n" for i in range(100))  # about 2.5 kB
        csv = SimpleUploadedFile("a.csv", f"date,description,amount\n{rows}".encode())
        imports = reverse("api:import-list")
        assert auth_client.post(imports, {"file": csv}, format="multipart").status_code == 202
        settings.CASHMAN_IMPORT_MAX_BYTES = 1000
        too_big = SimpleUploadedFile("b.csv", b"date,description,amount\n" + b"x" * 80_000)
        response = auth_client.post(imports, {"file": too_big}, format="multipart")
        assert response.status_code == 413

    def test_too_many_form_fields_is_400_json_not_a_500(self, auth_client, settings):
        # Django's own check, raised while DRF parses the body, was an unhandled 500.
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
        fields = {f"f{i}": "x" for i in range(10)}
        response = auth_client.post(EXPENSES, fields, format="multipart")
        assert response.status_code == 400
        assert response.json() == {"detail": "Bad request."}


class TestQueryLength:
    def test_a_query_over_the_limit_is_414_json_and_reaches_no_view(
        self, auth_client, settings, django_assert_num_queries
    ):
        settings.CASHMAN_MAX_QUERY_BYTES = 100
        with django_assert_num_queries(0):  # not even the token's user is looked up
            response = auth_client.get(EXPENSES, {"search": "x" * 101})
        assert response.status_code == 414
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "The query string is longer than this server accepts."}

    def test_a_query_at_the_limit_is_served(self, auth_client, settings):
        settings.CASHMAN_MAX_QUERY_BYTES = 100
        response = auth_client.get(EXPENSES, {"search": "x" * (100 - len("search="))})
        assert response.status_code == 200
        assert response.json()["count"] == 0

    def test_a_long_query_on_a_write_changes_nothing(self, auth_client, settings):
        settings.CASHMAN_MAX_QUERY_BYTES = 100
        response = auth_client.post(
            f"{EXPENSES}?pad={'x' * 200}", {"description": "pizza", "amount": "5"}, format="json"
        )
        assert response.status_code == 414
        assert not Transaction.objects.exists()

    def test_outside_the_api_the_answer_is_plain_text(self, client, settings):
        settings.CASHMAN_MAX_QUERY_BYTES = 100
        response = client.get("/admin/login/", {"next": "/" * 200})
        assert response.status_code == 414
        assert response["Content-Type"].startswith("text/plain")

    @pytest.mark.server
    def test_the_server_lets_the_long_query_through_for_a_json_answer(self, production_site):
        # The default limit (4096 bytes) is far below the server's request-line limit, so the client
        # gets Cashman's JSON 414 rather than a bare one from the server.
        with production_server(production_site, workers=1) as server:
            headers = {"Authorization": f"Bearer {server.access_token()}"}
            status, received, body = server.request(
                "GET", f"{EXPENSES}?search={'x' * 6000}", headers=headers
            )
        assert status == 414
        assert received["Content-Type"] == "application/json"
        assert json.loads(body)["detail"].startswith("The query string is longer")


class TestContentSecurityPolicy:
    @pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/redoc/", "/api/v1/"])
    def test_every_page_forbids_inline_and_foreign_scripts(self, client, path):
        policy = client.get(path)["Content-Security-Policy"]
        directives = {}
        for part in filter(None, (p.strip() for p in policy.split(";"))):
            name, _, value = part.partition(" ")
            directives[name] = value
        assert directives["script-src"] == "'self'"
        assert directives["default-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in directives["script-src"]
        assert "unsafe-eval" not in policy
        assert directives["img-src"].startswith("'self' data:")

    def test_only_redoc_may_show_its_cdn_logo(self, client):
        assert "cdn.redoc.ly" in client.get("/api/redoc/")["Content-Security-Policy"]
        assert "cdn.redoc.ly" not in client.get("/api/docs/")["Content-Security-Policy"]

    def test_swagger_ui_has_no_inline_script_and_its_init_script_is_a_file(self, client):
        html = client.get("/api/docs/").content.decode()
        assert "<script>" not in html
        script = client.get("/api/docs/?script=")
        assert script.status_code == 200
        assert script["Content-Type"].startswith("application/javascript")
        assert b"SwaggerUIBundle" in script.content

    def test_redoc_has_no_inline_script_and_no_foreign_stylesheet(self, client):
        html = client.get("/api/redoc/").content.decode()
        assert "<script>" not in html
        assert "fonts.googleapis.com" not in html
        assert "<redoc spec-url=" in html


class TestRequestLog:
    def _lines(self, caplog) -> list[dict]:
        formatter = JsonFormatter()
        return [
            json.loads(formatter.format(record))
            for record in caplog.records
            if record.name == "cashman.request"
        ]

    def test_one_json_line_per_request_with_its_id_user_and_timing(self, auth_client, user, caplog):
        caplog.set_level(logging.INFO, logger="cashman.request")
        response = auth_client.get(ME, HTTP_X_REQUEST_ID="req-from-the-proxy-1")

        assert response["X-Request-ID"] == "req-from-the-proxy-1"
        [line] = self._lines(caplog)
        assert line["request_id"] == "req-from-the-proxy-1"
        assert line["user_id"] == user.pk
        assert (line["method"], line["path"], line["status"]) == ("GET", ME, 200)
        assert line["duration_ms"] >= 0
        assert line["level"] == "INFO"

    def test_a_request_without_an_id_gets_a_fresh_one(self, api_client, caplog):
        caplog.set_level(logging.INFO, logger="cashman.request")
        first, second = api_client.get(ME), api_client.get(ME)
        assert first["X-Request-ID"] != second["X-Request-ID"]
        assert len(first["X-Request-ID"]) == 32
        lines = self._lines(caplog)
        assert [line["request_id"] for line in lines] == [
            first["X-Request-ID"],
            second["X-Request-ID"],
        ]
        assert [line["user_id"] for line in lines] == [None, None]

    def test_a_malformed_request_id_is_replaced(self, api_client):
        response = api_client.get(ME, HTTP_X_REQUEST_ID='x" injected="1\nfake line')
        assert "injected" not in response["X-Request-ID"]

    def test_passwords_tokens_and_bodies_never_reach_the_log(self, api_client, user, caplog):
        caplog.set_level(logging.DEBUG)
        tokens = api_client.post(TOKEN, {"email": user.email, "password": PASSWORD}).json()
        api_client.post(TOKEN, {"email": user.email, "password": "wrong-Secret-77"})
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        api_client.post(EXPENSES, {"description": "secret-memo-xyz", "amount": "1"})
        api_client.get(f"{ME}?token={tokens['refresh']}")

        formatter = JsonFormatter()
        written = "\n".join(formatter.format(record) for record in caplog.records)
        assert written  # there was something to look at
        for secret in (PASSWORD, "wrong-Secret-77", tokens["access"], tokens["refresh"]):
            assert secret not in written
        assert "secret-memo-xyz" not in written

"""A served request leaves none of DRF's objects to CPython's cyclic garbage collector.

ReleaseViewMiddleware cuts the links DRF makes between the view, its Request and the Response once
the response is rendered, so they are freed by reference counting as soon as it is sent. These
tests serve requests through Django's ClientHandler, the WSGI handler of the test client (a
WSGIRequest through every middleware, the response closed as a WSGI server closes it, the test's
database connection kept open), and ask the collector what it alone would have freed.
"""

import gc
import io
import json
from collections.abc import Iterator

import pytest
from django.test.client import ClientHandler
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conftest import bearer
from ledger.tests.factories import TransactionFactory

RELEASE = "cashman_site.middleware.ReleaseViewMiddleware"


def environ(method: str, path: str, *, token: str = "", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_ACCEPT": "application/json",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": io.StringIO(),
    }
    if body is not None:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(data))
    if token:
        env["HTTP_AUTHORIZATION"] = token
    return env


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector only runs when asked, and keeps what it finds in gc.garbage."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def serve(env: dict) -> tuple[int, bytes, list[object]]:
    """Serves one request; returns its status, its body and the DRF objects (views, requests,
    responses) that only the cyclic collector frees."""
    gc.collect()
    gc.garbage.clear()
    response = ClientHandler()(env)
    status, content = response.status_code, response.content
    del response
    gc.collect()
    # type(), not isinstance(): the latter would evaluate the lazy objects in the garbage.
    left = [o for o in gc.garbage if issubclass(type(o), (APIView, Request, Response))]
    gc.garbage.clear()
    return status, content, left


@pytest.mark.usefixtures("collector")
class TestReleaseViewMiddleware:
    def test_list_summary_create_and_errors_leave_no_drf_object(self, user):
        TransactionFactory.create_batch(3, owner=user)
        token = bearer(user)
        cases = [
            (environ("GET", "/api/v1/transactions/", token=token), 200),
            (environ("GET", "/api/v1/summary/monthly/", token=token), 200),
            (
                environ(
                    "POST",
                    "/api/v1/expenses/",
                    token=token,
                    body={"amount": "12.50", "date": "2026-11-01", "description": "lunch"},
                ),
                201,
            ),
            (environ("POST", "/api/v1/expenses/", token=token, body={"amount": "x"}), 400),
            (environ("GET", "/api/v1/transactions/999999/", token=token), 404),
            (environ("GET", "/api/v1/transactions/"), 401),
            (environ("DELETE", "/api/v1/summary/monthly/", token=token), 405),
        ]
        for env, expected in cases:
            status, content, left = serve(env)
            assert status == expected, content
            assert json.loads(content), content  # the body is whole: nothing was cut too early
            assert left == [], (env["REQUEST_METHOD"], env["PATH_INFO"], left)

    def test_the_list_body_is_unchanged(self, user, auth_client):
        TransactionFactory.create_batch(3, owner=user)
        status, content, _ = serve(environ("GET", "/api/v1/transactions/", token=bearer(user)))
        expected = auth_client.get("/api/v1/transactions/").json()
        assert status == 200
        assert json.loads(content) == expected
        assert len(expected["results"]) == 3

    def test_without_it_the_collector_finds_drf_objects(self, user, settings):
        # The check above can see a cycle: without the middleware it finds the view, the
        # Request and the Response of the same list.
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != RELEASE]
        status, _, left = serve(environ("GET", "/api/v1/transactions/", token=bearer(user)))
        assert status == 200
        kinds = {type(o).__name__ for o in left}
        assert {"TransactionViewSet", "Request", "Response"} <= kinds, kinds

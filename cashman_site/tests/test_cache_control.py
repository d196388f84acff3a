"""Answers under /api/v1/ hold private data: no browser or proxy cache may keep them."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PRIVATE = "private, no-store"


def transaction(auth_client) -> dict:
    response = auth_client.post(
        reverse("api:expense-list"), {"description": "Coffee", "amount": "3.50"}
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize(
    "name", ["api:transaction-list", "api:summary-list", "api:category-list", "auth-me"]
)
def test_json_answers_are_private_and_not_stored(auth_client, name):
    response = auth_client.get(reverse(name))
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE


def test_the_detail_is_private_and_keeps_its_etag(auth_client):
    tx = transaction(auth_client)
    url = reverse("api:transaction-detail", args=[tx["id"]])
    response = auth_client.get(url)
    assert response["Cache-Control"] == PRIVATE
    assert response["ETag"] == f'"{tx["id"]}-1"'
    stale = auth_client.patch(url, {"description": "x"}, HTTP_IF_MATCH='"0-0"')
    assert stale.status_code == 412
    assert stale["Cache-Control"] == PRIVATE


def test_the_streamed_csv_export_is_private(auth_client):
    transaction(auth_client)
    response = auth_client.get(reverse("api:export-list"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == PRIVATE
    assert b"Coffee" in b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/transactions/999999/", 404),
        ("/api/v1/no-such-thing/", 404),
        ("/api/v1/transactions/?date_after=soon", 400),
    ],
)
def test_errors_are_private(auth_client, path, status):
    response = auth_client.get(path)
    assert response.status_code == status
    assert response["Cache-Control"] == PRIVATE


def test_an_anonymous_401_is_private(api_client):
    response = api_client.get(reverse("api:transaction-list"))
    assert response.status_code == 401
    assert response["Cache-Control"] == PRIVATE


def test_a_body_refused_before_any_view_is_private(auth_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = auth_client.post(
        reverse("api:expense-list"), {"description": "Coffee, a long one", "amount": "3.50"}
    )
    assert response.status_code == 413
    assert response["Cache-Control"] == PRIVATE


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/", "/healthz"])
def test_the_schema_docs_and_probes_are_left_as_they_were(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert PRIVATE not in response.get("Cache-Control", "")


def test_a_cache_control_the_view_set_is_kept(rf, settings):
    from django.http import HttpResponse

    from cashman_site.middleware import PrivateCacheControlMiddleware

    def view(request):
        response = HttpResponse("{}")
        response["Cache-Control"] = "max-age=60"
        return response

    response = PrivateCacheControlMiddleware(view)(rf.get("/api/v1/anything/"))
    assert response["Cache-Control"] == "max-age=60"

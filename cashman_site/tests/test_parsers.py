"""A JSON body nested however deep is a 400 parse error, never a 500."""

import pytest
from django.urls import reverse

from cashman_site.parsers import TOO_DEEP_MESSAGE

pytestmark = pytest.mark.django_db

DEPTHS = [950, 5_000, 100_000]
#: Past every CPython's parser limit. Shallower documents are too deep for Python 3.11's parser
#: (950 was a 500 there) but may parse on later versions, then fail validation: 400 either way.
BEYOND_ANY_PARSER = 100_000


def assert_refused(response, depth: int) -> None:
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    if depth >= BEYOND_ANY_PARSER:
        assert response.json() == {"detail": TOO_DEEP_MESSAGE}


def nested(kind: str, depth: int) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize(
    "url", [reverse("auth-token"), reverse("auth-register"), "/api/v1/transactions/"]
)
def test_a_deeply_nested_body_is_a_400_parse_error(api_client, auth_client, url, kind, depth):
    client = api_client if url.startswith("/api/v1/auth/") else auth_client
    response = client.post(url, nested(kind, depth), content_type="application/json")
    assert_refused(response, depth)


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", DEPTHS)
def test_a_deeply_nested_batch_is_a_400_parse_error(auth_client, kind, depth):
    response = auth_client.post(
        "/api/v1/transactions/batch/", nested(kind, depth), content_type="application/json"
    )
    assert_refused(response, depth)


@pytest.mark.parametrize("depth", [50, 500])
def test_a_moderately_nested_body_is_parsed_and_refused_by_validation(auth_client, depth):
    response = auth_client.post(
        "/api/v1/transactions/batch/", nested("array", depth), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() != {"detail": TOO_DEEP_MESSAGE}


def test_other_malformed_json_keeps_drfs_message(api_client):
    response = api_client.post(reverse("auth-token"), "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")

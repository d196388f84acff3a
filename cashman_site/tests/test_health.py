"""The liveness and readiness probes: /healthz never touches a backing service, /readyz names
the one that does not answer."""

import copy

import pytest
from django.db import OperationalError, connections
from django.db.utils import load_backend
from django.test import override_settings

from cashman_site import health

# Nothing listens on port 1, so connecting fails at once with "connection refused".
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "cashman_site.redis_cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


def _unreachable_database(tmp_path):
    """A real connection to the configured backend that cannot open: a PostgreSQL port nothing
    listens on, or an SQLite file in a directory that does not exist."""
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    if settings_dict["ENGINE"].endswith("sqlite3"):
        settings_dict["NAME"] = str(tmp_path / "missing" / "db.sqlite3")
    else:
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    backend = load_backend(settings_dict["ENGINE"])
    return backend.DatabaseWrapper(settings_dict, alias="unreachable")


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_cache_answer(api_client):
    response = api_client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_200_degraded_naming_the_cache_when_redis_is_unreachable(api_client):
    # Requests are still served without Redis (no cached answers, per-process rate limits), so
    # the instance stays in the load balancer; the body says what is missing.
    # override_settings resets django.core.cache.caches, so `cache` in health.py follows it.
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = api_client.get("/readyz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "cache": "unavailable"},
    }


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_is_unreachable(
    api_client, monkeypatch, tmp_path
):
    unreachable = _unreachable_database(tmp_path)
    with pytest.raises(OperationalError):  # the driver itself fails, not a test double
        unreachable.ensure_connection()
    monkeypatch.setattr(health, "connection", unreachable)

    response = api_client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "cache": "ok"},
    }


@pytest.mark.django_db
def test_probes_answer_whatever_host_and_scheme_the_orchestrator_uses(client, settings):
    settings.ALLOWED_HOSTS = ["cashman.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    # Anything else from that host is refused as usual.
    assert client.get("/api/v1/", HTTP_HOST="10.1.2.3:8000").status_code == 400

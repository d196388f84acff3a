"""The settings modules as a deployment sees them: each case imports them in a fresh Python
process with a controlled environment, because settings are read once, at import."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = "cashman_site.settings.production"
# Long and varied enough for check --deploy's SECRET_KEY warning (security.W009).
SECRET_KEY = "test-only-Zq8vN3kR1xW6yT0pL5mB9cJ2hG7fD4sA-not-used-anywhere-else"
# What the settings read; a developer's shell or CI may hold any of these, and none may leak in.
READ_PREFIXES = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "JWT_", "CASHMAN_", "GUNICORN_")


def _run(*args: str, settings: str = PRODUCTION, **env: str) -> subprocess.CompletedProcess:
    """Run `python *args` from the project root with only `env` set among the variables the
    settings read."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(READ_PREFIXES)}
    clean.update(env, DJANGO_SETTINGS_MODULE=settings, DJANGO_READ_ENV_FILE="false")
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _production_env(**env: str) -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "cashman.example.com",
        "DATABASE_URL": "postgres://cashman@127.0.0.1:5432/cashman",
        **env,
    }


def _read_settings(*names: str, settings: str = PRODUCTION, **env: str) -> dict:
    """The values of `names` as the settings module computes them under `env`."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}, default=str))"
    )
    result = _run("-c", code, settings=settings, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without(missing):
    env = _production_env()
    del env[missing]

    result = _run("manage.py", "check", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set" in result.stderr


def test_production_passes_the_deploy_checks_without_a_warning():
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **_production_env())

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_trusts_x_forwarded_proto_from_the_tls_proxy():
    # A request the proxy marks as HTTPS is served with HSTS; the same request without the mark
    # is redirected to https. No database is touched: /api/v1/ refuses anonymous users.
    probe = (
        "import json, django; django.setup(); from django.test import Client; c = Client(); "
        "plain = c.get('/api/v1/'); "
        "proxied = c.get('/api/v1/', headers={'X-Forwarded-Proto': 'https'}); "
        "print(json.dumps({'plain': [plain.status_code, plain.get('Location')], "
        "'proxied': [proxied.status_code, proxied.get('Strict-Transport-Security')]}))"
    )
    result = _run("-c", probe, **_production_env(DJANGO_ALLOWED_HOSTS="testserver"))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)

    assert seen["plain"] == [301, "https://testserver/api/v1/"]
    assert seen["proxied"] == [401, "max-age=31536000; includeSubDomains; preload"]
    assert _read_settings("SECURE_PROXY_SSL_HEADER", **_production_env()) == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]
    }


def test_postgres_database_url_keeps_connections_alive_and_checks_them():
    seen = _read_settings(
        "DATABASES",
        **_production_env(DATABASE_URL="postgres://cashman:pw@db.internal:5432/cashman"),
    )
    database = seen["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["NAME"]) == ("db.internal", "cashman")
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"]["connect_timeout"] == 5


def test_no_database_url_means_sqlite_in_the_project():
    seen = _read_settings("DATABASES", "CACHES", settings="cashman_site.settings.dev")
    database = seen["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(PROJECT_ROOT / "db.sqlite3")
    assert database.get("CONN_MAX_AGE", 0) == 0
    assert seen["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")


def test_production_sends_the_security_headers():
    probe = (
        "import json, django; django.setup(); from django.test import Client; "
        "r = Client().get('/api/v1/', headers={'X-Forwarded-Proto': 'https'}); "
        "names = ['Strict-Transport-Security', 'X-Frame-Options', 'X-Content-Type-Options', "
        "'Referrer-Policy', 'Cross-Origin-Opener-Policy', 'Content-Security-Policy']; "
        "print(json.dumps({n: r.get(n) for n in names}))"
    )
    result = _run("-c", probe, **_production_env(DJANGO_ALLOWED_HOSTS="testserver"))
    assert result.returncode == 0, result.stderr
    headers = json.loads(result.stdout.strip().splitlines()[-1])

    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    directives = {d.strip() for d in headers["Content-Security-Policy"].split(";")}
    assert {"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} <= directives


def test_production_cookies_are_secure_and_http_only():
    seen = _read_settings(
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        **_production_env(),
    )
    assert seen == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
    }


def test_cors_origins_and_throttle_rates_come_from_the_environment():
    seen = _read_settings(
        "CORS_ALLOWED_ORIGINS",
        "REST_FRAMEWORK",
        "DATA_UPLOAD_MAX_MEMORY_SIZE",
        "AXES_FAILURE_LIMIT",
        **_production_env(
            CASHMAN_CORS_ALLOWED_ORIGINS="https://app.example.com,https://b.example.com",
            CASHMAN_THROTTLE_LOGIN="3/min",
            CASHMAN_NUM_PROXIES="1",
            CASHMAN_MAX_BODY_BYTES="1000",
            CASHMAN_LOGIN_FAILURE_LIMIT="7",
        ),
    )
    assert seen["CORS_ALLOWED_ORIGINS"] == ["https://app.example.com", "https://b.example.com"]
    assert seen["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["login"] == "3/min"
    assert seen["REST_FRAMEWORK"]["NUM_PROXIES"] == 1
    assert seen["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 1000
    assert seen["AXES_FAILURE_LIMIT"] == 7
    defaults = _read_settings("CORS_ALLOWED_ORIGINS", "REST_FRAMEWORK", **_production_env())
    assert defaults["CORS_ALLOWED_ORIGINS"] == []
    assert defaults["REST_FRAMEWORK"]["NUM_PROXIES"] == 0

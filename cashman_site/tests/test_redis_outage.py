"""Redis down: every request is still answered from the database, nothing is written wrong, the
rate limits count per process (never no limit), and /readyz says what is degraded.

The cache is a real `cashman_site.redis_cache.RedisCache` pointed at a port nothing listens on, so each
call fails as a dead Redis makes it fail (connection refused); the server with REDIS_URL on such a
port is in test_service_outages.py.
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cashman_site.redis_cache import OUTAGE, CacheUnavailable, outage
from cashman_site.tests.test_health import UNREACHABLE_REDIS
from ledger.models import ImportJob, Transaction

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-42"


@pytest.fixture
def redis_down(settings):
    settings.CASHMAN_LEDGER_CACHE_SECONDS = 300  # the ledger cache on, as with Redis in production
    with override_settings(CACHES=UNREACHABLE_REDIS):
        yield
    OUTAGE.clear()


def test_every_kind_of_request_is_answered_without_redis(
    redis_down, api_client, django_capture_on_commit_callbacks
):
    register = api_client.post(
        reverse("auth-register"), {"email": "ada@example.com", "password": PASSWORD}
    )
    assert register.status_code == 201, register.content
    assert outage() is not None  # the first call found Redis down; the next ones skip it

    token = api_client.post(
        reverse("auth-token"), {"email": "ada@example.com", "password": PASSWORD}
    )
    assert token.status_code == 200, token.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")

    for amount in ("12.50", "7.25"):
        created = api_client.post(
            reverse("api:expense-list"), {"description": "lunch", "amount": amount}
        )
        assert created.status_code == 201, created.content
    assert api_client.get(reverse("api:transaction-list")).json()["count"] == 2
    assert api_client.get(reverse("api:summary-list")).json() == {
        "income": "0.00",
        "expense": "-19.75",
        "transfers_in": "0.00",
        "transfers_out": "0.00",
        "balance": "-19.75",
        "count": 2,
    }
    # The households' reads and writes too: a ledger's roles are read from the database.
    ledgers = api_client.get("/api/v1/ledgers/")
    assert ledgers.status_code == 200, ledgers.content
    (personal,) = ledgers.json()["results"]
    assert (personal["role"], personal["personal"]) == ("owner", True)
    accounts = api_client.get("/api/v1/accounts/").json()["results"]
    assert [a["name"] for a in accounts] == ["Main"]
    savings = api_client.post("/api/v1/accounts/", {"name": "Savings"})
    assert savings.status_code == 201, savings.content
    moved = api_client.post(
        "/api/v1/transfers/",
        {"from_account": accounts[0]["id"], "to_account": savings.json()["id"], "amount": "5"},
    )
    assert moved.status_code == 201, moved.content
    summary = api_client.get(reverse("api:summary-list")).json()
    assert (summary["transfers_in"], summary["transfers_out"], summary["count"]) == (
        "5.00",
        "-5.00",
        4,
    )
    assert api_client.get(f"/api/v1/accounts/{savings.json()['id']}/").json()["balance"] == "5.00"
    assert api_client.get(reverse("api:summary-monthly")).json()[0]["expense"] == "-19.75"
    assert api_client.get(reverse("api:summary-by-category")).status_code == 200

    export = api_client.get(reverse("api:export-list"), {"format": "csv"})
    assert export.status_code == 200
    assert b"".join(export.streaming_content).count(b"lunch") == 2

    csv = b"date,description,amount\n2026-11-01,Salary,3000\n"
    with django_capture_on_commit_callbacks(execute=True):
        upload = api_client.post(
            reverse("api:import-list"),
            {"file": SimpleUploadedFile("bank.csv", csv)},
            format="multipart",
        )
    assert upload.status_code == 202, upload.content
    assert ImportJob.objects.get().status == "succeeded"
    # A write made while the cache was down is seen at once, and was written once.
    assert api_client.get(reverse("api:summary-list")).json()["balance"] == "2980.25"
    assert Transaction.objects.count() == 5  # the two expenses, the transfer's legs, the salary
    assert sum(Transaction.objects.values_list("amount", flat=True)) == Decimal("2980.25")

    ready = api_client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")


def test_rate_limits_still_hold_per_process(redis_down, settings, auth_client, time_machine):
    time_machine.move_to(timezone.now(), tick=False)  # all five in one window
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "3/min",
        },
    }
    statuses = [auth_client.get(reverse("api:summary-list")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = auth_client.get(reverse("api:summary-list"))
    assert refused.json()["detail"].startswith("Request was throttled")
    assert int(refused["Retry-After"]) > 0


def test_counting_calls_say_the_cache_is_unavailable_and_reads_are_misses(redis_down):
    assert cache.get("anything", "missing") == "missing"
    cache.set("anything", 1)  # skipped, not raised
    assert cache.get_many(["a", "b"]) == {}
    with pytest.raises(CacheUnavailable):
        cache.incr("counter")
    with pytest.raises(CacheUnavailable):
        cache.reserve("counter", limit=10, lease=2, timeout=60)


@pytest.mark.redis
def test_the_cache_is_used_again_once_redis_answers(settings):
    settings.CASHMAN_LEDGER_CACHE_SECONDS = 300
    OUTAGE.trip(ConnectionError("a test's outage"))
    assert cache.get("k", "missing") == "missing"  # skipped while the outage lasts
    OUTAGE.clear()  # as OUTAGE_RETRY_SECONDS passing does
    cache.set("k", "v")
    assert cache.get("k") == "v"
    assert outage() is None

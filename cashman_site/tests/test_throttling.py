"""Rate limits: 429 JSON with Retry-After, X-RateLimit-* headers, the scopes, and a client
address that a forged X-Forwarded-For cannot change."""

import time

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.settings import api_settings

from accounts.tests.factories import PASSWORD
from cashman_site import throttling
from cashman_site.throttling import SharedCacheRateThrottle
from conftest import bearer

pytestmark = pytest.mark.django_db

ME = reverse("auth-me")
TOKEN = reverse("auth-token")
REGISTER = reverse("auth-register")
PASSWORD_URL = reverse("auth-password")
SCHEMA = reverse("schema")
REFRESH = reverse("auth-token-refresh")


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Hold the throttles' clock a few seconds into an hour (so into a minute too) for the whole
    test: the windows are fixed, and a test whose requests straddled a boundary would see its
    count start afresh."""
    now = [(time.time() // 3600) * 3600 + 5]
    monkeypatch.setattr(SharedCacheRateThrottle, "timer", staticmethod(lambda: now[0]))

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


@pytest.fixture
def rates(settings):
    """Set some throttle rates for this test: rates(anon="2/min")."""

    def set_rates(num_proxies: int | None = None, **scoped: str) -> None:
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **scoped}
        if num_proxies is not None:
            rest["NUM_PROXIES"] = num_proxies
        settings.REST_FRAMEWORK = rest
        assert rest["DEFAULT_THROTTLE_RATES"] == api_settings.DEFAULT_THROTTLE_RATES

    return set_rates


def statuses(send, times: int) -> list[int]:
    return [send().status_code for _ in range(times)]


def test_over_the_anonymous_limit_is_429_json_with_retry_after(api_client, rates):
    rates(anon="3/min")
    answers = [api_client.post(REFRESH, {"refresh": "not-a-token"}) for _ in range(4)]

    # A dead token is still a request counted against the address.
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a["X-RateLimit-Limit"] for a in answers} == {"3"}
    # The clock stands 5 s into the minute: the window ends in 55 s.
    assert {a["X-RateLimit-Reset"] for a in answers} == {"55"}
    throttled = answers[-1]
    assert throttled["Content-Type"] == "application/json"
    assert "throttled" in throttled.json()["detail"].lower()
    assert throttled["Retry-After"] == "55"


def test_the_user_limit_counts_each_user_apart(auth_client, other_client, rates):
    rates(user="2/min")
    assert statuses(lambda: auth_client.get(ME), 3) == [200, 200, 429]
    assert other_client.get(ME).status_code == 200


def test_login_has_its_own_tighter_limit_even_for_the_right_password(api_client, user, rates):
    rates(login="2/min")
    body = {"email": user.email, "password": PASSWORD}
    assert statuses(lambda: api_client.post(TOKEN, body), 3) == [200, 200, 429]
    # Other anonymous endpoints are not affected by the login scope.
    assert api_client.get(SCHEMA).status_code == 200


def test_registration_is_limited(api_client, rates):
    rates(register="2/hour")
    answers = [
        api_client.post(REGISTER, {"email": f"n{i}@example.com", "password": PASSWORD})
        for i in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[-1]["X-RateLimit-Limit"] == "2"


def test_password_change_is_limited(auth_client, rates):
    rates(password_change="2/hour")
    body = {"old_password": "not-it-at-all", "new_password": "x-Long-passphrase-9"}
    assert statuses(lambda: auth_client.post(PASSWORD_URL, body), 3) == [400, 400, 429]


def test_uploads_to_the_import_endpoint_have_their_own_limit(auth_client, rates):
    rates(imports="1/hour")
    imports = reverse("api:import-list")

    def upload():
        csv = SimpleUploadedFile("a.csv", b"date,description,amount\n2026-11-01,x,1\n")
        return auth_client.post(imports, {"file": csv}, format="multipart")

    assert statuses(upload, 2) == [202, 429]
    # Following the jobs is not an upload: it stays under the user's general limit.
    assert auth_client.get(imports).status_code == 200


def test_a_forged_x_forwarded_for_does_not_reset_the_limit(api_client, rates):
    # No trusted proxy (the default): the address is REMOTE_ADDR, whatever the client claims.
    rates(anon="2/min")
    answers = [
        api_client.get(SCHEMA, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(3)
    ]
    assert answers == [200, 200, 429]


def test_behind_one_proxy_the_address_is_the_one_the_proxy_appended(api_client, rates):
    rates(num_proxies=1, anon="2/min")

    def via_proxy(forged: str, client: str = "203.0.113.7") -> int:
        # The proxy appends the address it saw to whatever the client sent.
        return api_client.get(SCHEMA, HTTP_X_FORWARDED_FOR=f"{forged}, {client}").status_code

    assert [via_proxy(f"198.51.100.{i}") for i in range(3)] == [200, 200, 429]
    assert via_proxy("198.51.100.9", client="203.0.113.8") == 200  # another client


def test_a_new_window_starts_a_new_count(api_client, rates, clock):
    rates(anon="1/min")
    assert statuses(lambda: api_client.get(SCHEMA), 2) == [200, 429]
    clock(54)  # one second before the window ends: still throttled
    assert api_client.get(SCHEMA).status_code == 429
    clock(1)
    assert api_client.get(SCHEMA).status_code == 200


def test_the_counts_start_afresh_in_each_test(api_client, rates):
    # The autouse fixture clears the cache: the earlier tests' counts are gone.
    rates(anon="1/min")
    assert api_client.get(SCHEMA).status_code == 200


def test_an_unthrottled_response_has_no_rate_limit_headers(client):
    response = client.get("/healthz")
    assert "X-RateLimit-Limit" not in response


def test_a_session_user_is_throttled_as_a_user(client, user, rates):
    rates(user="1/min")
    client.force_login(user)
    assert statuses(lambda: client.get(ME), 2) == [200, 429]


def test_bearer_helper_gives_a_working_token(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(user))
    assert api_client.get(ME).status_code == 200


def _shared_count(user) -> int:
    """The user's counter in Redis for the current minute (the clock fixture holds it still)."""
    window = int(SharedCacheRateThrottle.timer() // 60)
    return cache.get(f"throttle_user_{user.pk}:{window}")


@pytest.mark.redis
class TestReservationsWithRedis:
    """With Redis, a worker reserves several requests at once and spends them from memory."""

    def test_one_round_trip_serves_a_lease_and_the_headers_stay_exact(
        self, auth_client, user, rates, settings
    ):
        rates(user="1000/min")
        settings.CASHMAN_THROTTLE_LEASE = 10
        answers = [auth_client.get(ME) for _ in range(10)]
        assert [a.status_code for a in answers] == [200] * 10
        assert [a["X-RateLimit-Remaining"] for a in answers] == [str(999 - i) for i in range(10)]
        assert _shared_count(user) == 10  # one reservation of ten, all spent here
        auth_client.get(ME)
        assert _shared_count(user) == 20  # the eleventh request reserved the next ten

    def test_a_lease_of_one_counts_every_request_in_redis(self, auth_client, user, rates, settings):
        rates(user="1000/min")
        settings.CASHMAN_THROTTLE_LEASE = 1
        answers = [auth_client.get(ME) for _ in range(3)]
        assert [a["X-RateLimit-Remaining"] for a in answers] == ["999", "998", "997"]
        assert _shared_count(user) == 3

    def test_workers_together_never_pass_the_limit(
        self, auth_client, user, rates, settings, monkeypatch
    ):
        rates(user="200/min")
        settings.CASHMAN_THROTTLE_LEASE = 10
        workers = [throttling.Leases() for _ in range(4)]  # four processes' reservations

        def request_on(worker: throttling.Leases) -> int:
            monkeypatch.setattr(throttling, "LEASES", worker)
            return auth_client.get(ME).status_code

        answers = [request_on(workers[i % 4]) for i in range(260)]
        assert answers.count(200) == 200  # every worker kept being asked, so none held any back
        assert answers[-40:] == [429] * 40
        assert _shared_count(user) == 200

    def test_a_new_window_is_reserved_afresh(self, auth_client, rates, settings, clock):
        rates(user="100/min")
        settings.CASHMAN_THROTTLE_LEASE = 10
        assert auth_client.get(ME)["X-RateLimit-Remaining"] == "99"
        clock(60)
        assert auth_client.get(ME)["X-RateLimit-Remaining"] == "99"


class TestLeases:
    """A process's unspent reservations, and the bound on how many it keeps."""

    def test_a_lease_is_spent_one_request_at_a_time_until_its_window_ends(self):
        leases = throttling.Leases()
        leases.keep("k", throttling._Lease(ends=60.0, left=2, count=10), now=0.0)
        assert leases.spend("k", now=1.0).left == 1
        assert leases.spend("k", now=59.0).left == 0
        assert leases.spend("k", now=59.5) is None  # spent
        leases.keep("k", throttling._Lease(ends=60.0, left=5, count=20), now=0.0)
        assert leases.spend("k", now=60.0) is None  # its window has ended

    def test_ended_windows_go_first_and_then_everything(self, monkeypatch):
        monkeypatch.setattr(throttling.Leases, "PRUNE_ABOVE", 3)
        leases = throttling.Leases()
        leases.keep("old", throttling._Lease(ends=60.0, left=5, count=5), now=0.0)
        leases.keep("a", throttling._Lease(ends=120.0, left=5, count=5), now=0.0)
        leases.keep("b", throttling._Lease(ends=120.0, left=5, count=5), now=0.0)
        leases.keep("c", throttling._Lease(ends=120.0, left=5, count=5), now=61.0)
        assert leases.spend("old", now=61.0) is None
        assert [leases.spend(key, now=61.0) is not None for key in "abc"] == [True] * 3
        leases.keep("d", throttling._Lease(ends=120.0, left=5, count=5), now=62.0)
        # Nothing had ended: all were dropped, and only the new one is kept.
        assert [leases.spend(key, now=62.0) is not None for key in "abcd"] == [False] * 3 + [True]

    def test_threads_that_find_no_lease_reserve_one_after_another(self, monkeypatch, settings):
        # A worker serves several requests at once (its threads): those that find no lease left
        # must not each reserve one, as keep() holds one a key and the others' would be lost.
        from concurrent.futures import ThreadPoolExecutor

        settings.CASHMAN_THROTTLE_LEASE = 10
        monkeypatch.setattr(throttling, "LEASES", throttling.Leases())
        reserved: list[int] = []

        class SlowSharedCache:
            def reserve(self, key, *, limit, lease, timeout):
                time.sleep(0.05)  # a round trip, long enough for every thread to arrive
                reserved.append(lease)
                return sum(reserved), lease

        throttle = SharedCacheRateThrottle.__new__(SharedCacheRateThrottle)
        throttle.cache, throttle.num_requests, throttle.duration = SlowSharedCache(), 1000, 60
        throttle.now, throttle.reset_at = 0.0, 60.0
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: throttle._spend_shared("k"), range(8)))
        assert [allowed for allowed, _ in answers] == [True] * 8
        assert reserved == [10]  # one reservation served all eight

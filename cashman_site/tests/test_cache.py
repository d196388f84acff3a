"""The Redis cache backend (cashman_site.redis_cache) against the real Redis of REDIS_URL."""

import pytest
import redis
from django.core.cache import caches

from cashman_site.redis_cache import RedisCache

pytestmark = pytest.mark.redis

cache = caches["default"]


@pytest.fixture
def round_trips(monkeypatch):
    """Counts the requests the backend sends to Redis (the real ones still go out)."""
    sent = []
    send = redis.connection.Connection.send_packed_command

    def counting(self, command, *args, **kwargs):
        sent.append(command)
        return send(self, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    return sent


def test_the_configured_backend_is_cashmans():
    assert isinstance(cache, RedisCache)


def test_one_client_serves_every_call():
    assert cache._cache.get_client() is cache._cache.get_client(write=True)


def test_incr_is_one_round_trip_and_keeps_the_timeout(round_trips):
    cache.set("counter", 5, timeout=60)
    assert cache.incr("counter") == 6  # the first call may also load the script
    round_trips.clear()
    assert cache.incr("counter") == 7
    assert len(round_trips) == 1
    assert cache.incr("counter", 10) == 17
    assert cache.get("counter") == 17
    client = cache._cache.get_client()
    assert 0 < client.ttl(cache.make_and_validate_key("counter")) <= 60


def test_incr_of_a_missing_key_is_an_error_and_creates_nothing():
    with pytest.raises(ValueError, match="not found"):
        cache.incr("absent")
    assert cache.get("absent") is None
    assert not cache.has_key("absent")


def test_incr_survives_the_server_forgetting_its_script():
    cache.set("counter", 1)
    assert cache.incr("counter") == 2
    cache._cache.get_client().script_flush()
    assert cache.incr("counter") == 3


class TestReserve:
    """What the rate limits count with: reservations on a counter that never pass its limit."""

    def test_grants_up_to_the_lease_and_never_passes_the_limit(self):
        grants = []
        while True:
            count, granted = cache.reserve("window", limit=200, lease=10, timeout=60)
            if not granted:
                break
            grants.append(granted)
            assert count == sum(grants)
        assert sum(grants) == 200
        # A sixteenth of what is left at most: full leases while 160 or more are left, then
        # smaller ones, one at a time for the last 31.
        assert grants[:4] == [10, 10, 10, 10]
        assert set(grants[-31:]) == {1}
        assert grants == sorted(grants, reverse=True)
        # Refused: nothing more is counted.
        assert cache.reserve("window", limit=200, lease=10, timeout=60) == (200, 0)
        assert cache.get("window") == 200
        ttl = cache._cache.get_client().ttl(cache.make_and_validate_key("window"))
        assert 0 < ttl <= 60

    def test_a_limit_under_32_is_reserved_one_at_a_time(self):
        assert [cache.reserve("small", limit=31, lease=10, timeout=60)[1] for _ in range(32)] == [
            1
        ] * 31 + [0]

    def test_is_one_round_trip(self, round_trips):
        cache.reserve("trips", limit=100, lease=5, timeout=60)  # may also load the script
        round_trips.clear()
        assert cache.reserve("trips", limit=100, lease=5, timeout=60) == (10, 5)
        assert len(round_trips) == 1

    def test_does_not_extend_a_running_counters_expiry(self):
        cache.reserve("expiring", limit=100, lease=5, timeout=60)
        key = cache.make_and_validate_key("expiring")
        client = cache._cache.get_client()
        client.expire(key, 5)
        cache.reserve("expiring", limit=100, lease=5, timeout=60)
        assert 0 < client.ttl(key) <= 5

"""The Redis cache backend (cashman_site.cache) against the real Redis of REDIS_URL."""

import pytest
import redis
from django.core.cache import caches

from cashman_site.cache import RedisCache

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

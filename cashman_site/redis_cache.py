"""Django's Redis cache backend, without its two per-call costs on every request, plus the
reservations the rate limits take.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every cache call (each
one fills a table of some 200 response callbacks, which dominated the cache's time in a profile
of the transaction list), and its `incr()` asks `EXISTS` and then `INCRBY`, two round trips. Here
each connection pool gets one `redis.Redis` for the life of the process (it is thread-safe and
re-opens its connections after a fork), and `incr()` is one server-side script with the same
meaning: increment the key if it exists, else `ValueError`.

`reserve()` is what `cashman_site.throttling` counts with: one script that adds up to `lease`
to a counter without ever taking it past a limit (see there).

Redis is a cache here, never the only copy of anything: when it does not answer, a read is a miss
and a write is skipped, so every request is still answered from the database. After a failure
the process does not try Redis again for `cashman_site.outage.RETRY_SECONDS`, so a Redis that hangs costs one
request its socket timeout, not every request. Counting calls (`incr`, `reserve`) raise
`CacheUnavailable` instead, for the rate limits to count in the process meanwhile (never to let
everything through). `/readyz` reports the outage (`outage()`).
"""

from collections.abc import Callable
from typing import Any, TypeVar, cast

import redis as redis_py
from django.core.cache.backends import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from cashman_site.outage import Outage

T = TypeVar("T")


class CacheUnavailable(Exception):
    """The shared cache did not answer a call whose result cannot be made up (a count)."""


OUTAGE = Outage("the cache (Redis)")

#: What a Redis that cannot serve raises: down, unreachable or hanging (connection and timeout
#: errors, the socket's), and refusing writes (out of memory under `noeviction`, a read-only
#: replica after a failover, a failed snapshot under `stop-writes-on-bgsave-error`).
DOWN = (redis_py.exceptions.RedisError, OSError)


def outage() -> str | None:
    """Why the shared cache is being skipped in this process, or None when it is not."""
    if not OUTAGE.active():
        return None
    return OUTAGE.error or "unavailable"


# Same semantics as Django's incr(): a missing key is an error, never created without a timeout.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""

# Reserve up to ARGV[2] of what is left under the limit ARGV[1] on the counter KEYS[1], never
# more than a LEASE_SHARE-th of what is left, always 1 while anything is; a counter this starts
# expires after ARGV[3] seconds. Returns {the counter after, how many were reserved}: nothing is
# added once the limit is reached, so a refused request does not count.
LEASE_SHARE = 16
_RESERVE = f"""
local limit = tonumber(ARGV[1])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = limit - count
if left < 1 then
    return {{count, 0}}
end
local grant = math.max(1, math.min(tonumber(ARGV[2]), math.floor(left / {LEASE_SHARE})))
count = redis.call('INCRBY', KEYS[1], grant)
if count == grant then
    redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return {{count, grant}}
"""


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._scripts: dict[tuple[int, str], Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Both private attributes are Django's own (django-stubs does not declare them).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            self._clients[id(pool)] = client
        return client

    def _script(self, key: Any, source: str) -> Any:
        client = self.get_client(key, write=True)
        script = self._scripts.get((id(client), source))
        if script is None:
            script = self._scripts[id(client), source] = client.register_script(source)
        return script

    def incr(self, key: Any, delta: int) -> int:
        value = self._script(key, _INCR_EXISTING)(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(value)

    def reserve(self, key: Any, limit: int, lease: int, timeout: int) -> tuple[int, int]:
        count, granted = self._script(key, _RESERVE)(keys=[key], args=[limit, lease, timeout])
        return int(count), int(granted)


class RedisCache(redis.RedisCache):
    """settings.CACHES backend: `cashman_site.redis_cache.RedisCache`, options as Django's. Outages
    degrade to misses (see the module docstring)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def _degrade(self, call: Callable[[], T], fallback: T) -> T:
        if OUTAGE.active():
            return fallback
        try:
            return call()
        except DOWN as exc:
            OUTAGE.trip(exc)
            return fallback

    def _count(self, call: Callable[[], T]) -> T:
        if OUTAGE.active():
            raise CacheUnavailable(OUTAGE.error)
        try:
            return call()
        except DOWN as exc:
            OUTAGE.trip(exc)
            raise CacheUnavailable(str(exc)) from exc

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._degrade(lambda: super(RedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._degrade(lambda: super(RedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._degrade(lambda: super(RedisCache, self).has_key(key, version), False)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> None:
        self._degrade(lambda: super(RedisCache, self).set(key, value, timeout, version), None)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> list:
        failed = list(data)
        return self._degrade(
            lambda: super(RedisCache, self).set_many(data, timeout, version), failed
        )

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        return self._count(lambda: super(RedisCache, self).add(key, value, timeout, version))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        return self._degrade(lambda: super(RedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._degrade(lambda: super(RedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._degrade(lambda: super(RedisCache, self).delete_many(keys, version), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._count(lambda: super(RedisCache, self).incr(key, delta, version))

    def clear(self) -> None:
        self._degrade(lambda: super(RedisCache, self).clear(), None)

    def reserve(
        self, key: Any, *, limit: int, lease: int, timeout: int, version: int | None = None
    ) -> tuple[int, int]:
        """Add up to `lease` (at least 1) to the counter `key` without passing `limit`; a counter
        this starts expires after `timeout` seconds. Returns (the count after, how many were
        added); (count, 0) once the limit is reached. One round trip, atomic."""
        key = self.make_and_validate_key(key, version=version)
        client = cast(RedisCacheClient, self._cache)
        return self._count(lambda: client.reserve(key, limit, lease, timeout))

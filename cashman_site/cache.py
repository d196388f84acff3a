"""Django's Redis cache backend, without its two per-call costs on every request, plus the
reservations the rate limits take.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every cache call (each
one fills a table of some 200 response callbacks; a third of the cache's time in a profile of
the transaction list), and its `incr()` asks `EXISTS` and then `INCRBY`, two round trips. Here
each connection pool gets one `redis.Redis` for the life of the process (it is thread-safe and
re-opens its connections after a fork), and `incr()` is one server-side script with the same
meaning: increment the key if it exists, else `ValueError`.

`reserve()` is what `cashman_site.throttling` counts with: one script that adds up to `lease`
to a counter without ever taking it past a limit (see there).
"""

from typing import Any, cast

from django.core.cache.backends import redis

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
    """settings.CACHES backend: `cashman_site.cache.RedisCache`, options as Django's."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def reserve(
        self, key: Any, *, limit: int, lease: int, timeout: int, version: int | None = None
    ) -> tuple[int, int]:
        """Add up to `lease` (at least 1) to the counter `key` without passing `limit`; a counter
        this starts expires after `timeout` seconds. Returns (the count after, how many were
        added); (count, 0) once the limit is reached. One round trip, atomic."""
        key = self.make_and_validate_key(key, version=version)
        return cast(RedisCacheClient, self._cache).reserve(key, limit, lease, timeout)

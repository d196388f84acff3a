"""Rate limits that hold across every server worker, and the headers that tell a client about them.

DRF's SimpleRateThrottle reads a list of timestamps from the cache, appends one and writes the
list back; two workers answering at once both read the same list and one write is lost, so the
limit leaks under concurrent load. These throttles count in fixed windows instead: one counter a
window, incremented atomically by the cache. The window is part of the key, so a counter never
outlives its window whatever happens to its expiry.

With Redis, a request does not cost a round trip each: a worker reserves several requests at
once on the shared counter (`RedisCache.reserve`, at most CASHMAN_THROTTLE_LEASE, and never more
than a sixteenth of what is left of the limit, so one at a time near it) and spends them from
memory. The counter never passes the limit, so all the workers together never let more than the
limit through. The price: near the limit, a worker may refuse a request while another still holds
a reservation, and `X-RateLimit-Remaining` does not see what other workers reserved since this
one's last reservation. With one worker, or CASHMAN_THROTTLE_LEASE=1, the count is exact. Limits
under 32 a window always reserve one at a time. Without Redis (the in-process cache), each request
increments the counter.

When the shared cache does not answer (Redis down: `cashman_site.redis_cache.CacheUnavailable`), each
process counts on its own (`LOCAL_COUNTS`) until it answers again: a limit then holds per worker,
so all the workers together let through at most their number times it. Never no limit.

Every throttle records what it counted on the request; `RateLimitHeadersMiddleware` turns the
tightest of them into `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(seconds until the window ends). Over the limit, DRF answers 429 JSON with `Retry-After`.
"""

import math
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from cashman_site import process_state
from cashman_site.redis_cache import CacheUnavailable

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES)
    from rest_framework.views import APIView

RATE_LIMITS_ATTR = "cashman_rate_limits"


@dataclass(frozen=True)
class RateLimit:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends


def rate_limits(request: HttpRequest) -> list[RateLimit]:
    """What the throttles counted for this request (empty when none applied)."""
    return getattr(request, RATE_LIMITS_ATTR, [])


def client_address(request: HttpRequest | Request) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as NUM_PROXIES proxies.

    The one definition used by the throttles and the login lockout alike.
    """
    return throttling.BaseThrottle().get_ident(cast(Request, request))


@dataclass
class _Lease:
    ends: float  # when its window ends
    left: int  # reserved and not spent yet
    count: int  # the shared counter when it was reserved


class Leases:
    """The requests this process reserved on shared counters and has not spent yet."""

    #: At this many counters, those of ended windows are dropped; if that is not enough, all are
    #: (their unspent requests are lost: a few refused early, never one let through too many).
    PRUNE_ABOVE = 10_000

    #: Locks that make one thread at a time reserve on a counter, picked by the key's hash.
    STRIPES = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()  # each worker serves several requests at once (threads)
        self._leases: dict[str, _Lease] = {}
        self._reserving = [threading.Lock() for _ in range(self.STRIPES)]

    def reserving(self, key: str) -> threading.Lock:
        """Held while this process reserves on `key`'s counter: threads that find no lease left
        at the same moment reserve one after another, the later ones spending the first one's
        lease, instead of each reserving its own and all but the last being lost (`keep` keeps
        one lease a key), which would refuse requests well under the limit."""
        return self._reserving[hash(key) % self.STRIPES]

    def spend(self, key: str, now: float) -> _Lease | None:
        """Spend one reserved request of `key`: the lease as this spending left it (a copy, which
        other threads cannot change), or None when there is none left."""
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease.left < 1 or lease.ends <= now:
                return None
            lease.left -= 1
            return replace(lease)

    def keep(self, key: str, lease: _Lease, now: float) -> None:
        with self._lock:
            if len(self._leases) >= self.PRUNE_ABOVE:
                self._leases = {k: v for k, v in self._leases.items() if v.ends > now}
                if len(self._leases) >= self.PRUNE_ABOVE:
                    self._leases = {}
            self._leases[key] = lease

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()


LEASES = Leases()
# A forked child starts with none of its parent's reservations.
process_state.register("throttling: reserved requests", LEASES.clear)


class LocalCounts:
    """Fixed-window counters of this process alone, for when the shared cache does not answer."""

    PRUNE_ABOVE = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}

    def increment(self, key: str, ends: float, now: float) -> int:
        with self._lock:
            if len(self._counts) >= self.PRUNE_ABOVE:
                self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
                if len(self._counts) >= self.PRUNE_ABOVE // 2:  # as Leases: start afresh
                    self._counts = {}
            window_ends, count = self._counts.get(key, (ends, 0))
            self._counts[key] = (window_ends, count + 1)
            return count + 1

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


LOCAL_COUNTS = LocalCounts()
process_state.register("throttling: counts while the cache is down", LOCAL_COUNTS.clear)


class SharedCacheRateThrottle(throttling.SimpleRateThrottle):
    """A fixed-window counter in the shared cache; see the module docstring."""

    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        # Read at each request, not bound once at import as DRF does, so settings can change.
        scope = getattr(self, "scope", None)
        if not scope:
            raise ImproperlyConfigured(f"{type(self).__name__} has no `scope`.")
        try:
            rate = api_settings.DEFAULT_THROTTLE_RATES[scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"No throttle rate set for scope {scope!r}.") from exc
        return None if rate is None else str(rate)

    def get_ident(self, request: Request) -> str:  # type: ignore[override]
        return client_address(request) or ""

    def allow_request(self, request: Request, view: "APIView") -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, remaining = self._spend(self.window_key(key))
        _record(
            request,
            RateLimit(
                limit=self.num_requests,
                remaining=remaining,
                reset=math.ceil(self.reset_at - self.now),
            ),
        )
        return allowed

    def window_key(self, key: str) -> str:
        """`key` in the current fixed window (a counter never outlives its window); sets `now`
        and `reset_at`, the window's end."""
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.reset_at = (window + 1) * self.duration
        return f"{key}:{window}"

    def _spend(self, key: str) -> tuple[bool, int]:
        """Count one request on `key`: (allowed, requests left in the window)."""
        try:
            return self._spend_shared(key)
        except CacheUnavailable:
            count = LOCAL_COUNTS.increment(key, self.reset_at, self.now)
            return count <= self.num_requests, max(self.num_requests - count, 0)

    def _spend_shared(self, key: str) -> tuple[bool, int]:
        limit = self.num_requests
        lease = LEASES.spend(key, self.now)
        if lease is not None:
            return True, max(limit - lease.count + lease.left, 0)
        reserve = getattr(self.cache, "reserve", None)
        if reserve is None:  # a cache without reservations: one increment a request
            count = self._increment(key)
            return count <= limit, max(limit - count, 0)
        with LEASES.reserving(key):
            lease = LEASES.spend(key, self.now)  # another thread's reservation, made meanwhile
            if lease is not None:
                return True, max(limit - lease.count + lease.left, 0)
            count, granted = reserve(
                key, limit=limit, lease=settings.CASHMAN_THROTTLE_LEASE, timeout=self.duration + 1
            )
            if granted < 1:
                return False, 0
            if granted > 1:
                lease = _Lease(ends=self.reset_at, left=granted - 1, count=count)
                LEASES.keep(key, lease, self.now)
        return True, max(limit - count + granted - 1, 0)

    def _increment(self, key: str) -> int:
        # One round trip for every request of a window but its first (cashman_site.redis_cache makes
        # Redis's incr a single script).
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request: start its counter
            if self.cache.add(key, 1, timeout=self.duration + 1):
                return 1
            return self.cache.incr(key)  # another worker started it first

    def wait(self) -> float:
        return max(self.reset_at - self.now, 0)


def _record(request: Request | HttpRequest, limit: RateLimit) -> None:
    target = getattr(request, "_request", request)  # the HttpRequest the middleware sees
    setattr(target, RATE_LIMITS_ATTR, [*rate_limits(target), limit])


class AnonRateThrottle(SharedCacheRateThrottle, throttling.AnonRateThrottle):
    """Anonymous callers, by address: CASHMAN_THROTTLE_ANON."""


class UserRateThrottle(SharedCacheRateThrottle, throttling.UserRateThrottle):
    """Signed-in callers, by user: CASHMAN_THROTTLE_USER."""


class ScopedRateThrottle(SharedCacheRateThrottle, throttling.ScopedRateThrottle):
    """Views with a `throttle_scope` (login, register, password_change, imports), by user or
    address: CASHMAN_THROTTLE_<SCOPE>."""

    def allow_request(self, request: Request, view: "APIView") -> bool:
        # DRF's ScopedRateThrottle picks the scope from the view, then defers to the base class.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        num_requests, duration = self.parse_rate(self.rate)
        if num_requests is None or duration is None:
            return True
        self.num_requests, self.duration = num_requests, duration
        return SharedCacheRateThrottle.allow_request(self, request, view)

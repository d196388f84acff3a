"""Per-user caching of ledger reads (summaries, list counts, roles), dropped by any write of a
ledger the user is in.

Every user row holds a generation (`User.ledger_generation`), and every cached read is stored
under a key that names it. A write raises the generation (`ledger_changed`) in the database, in
the write's own transaction: the old entries are never read again, nothing has to find and
delete them, they expire.

Because the generation is read with the user row that authentication loads anyway, a cached read
costs one cache lookup and a write no cache call at all. Because it is raised in the write's
transaction, no reader can see the new generation before the rows it covers: a read that ran
before the commit stored its answer under the old generation, which no later request reads. A
request that writes and then reads would still hold the generation it loaded; none does.

Any cache is correct, a per-process one too, since the generation comes from the database; it
is on by default only when REDIS_URL is set (`CASHMAN_LEDGER_CACHE_SECONDS`), where every worker
shares the entries. The generation is raised on every write even with the cache off, so that
turning it on never serves an entry from before writes made while it was off.

For the same reason each process also keeps the entries it last read or stored in memory (up to
`LOCAL_BYTES` of them), in front of the shared cache: an entry never changes once stored (a write
makes a new key), so a worker that has one answers without a round trip to Redis. They are kept
pickled, as in Redis, so no caller can change another's copy, and expire with the shared entry's
timeout.
"""

import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import F, Q

from cashman_site import process_state
from ledger import scope

T = TypeVar("T")
_MISSING = object()


#: How much memory each process gives the entries: their pickled values (a count is some 20
#: bytes, a monthly summary of three years about 2 KB), keys and bookkeeping (`ENTRY_BYTES` each).
#: An entry over a sixteenth of it is not kept.
LOCAL_BYTES = 4 * 1024 * 1024
ENTRY_BYTES = 250


class LocalEntries:
    """The entries this process last read or stored, pickled, with their expiry: up to `max_bytes`
    of them, the least recently used dropped first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0  # bytes held
        self._lock = threading.Lock()  # gthread workers serve several requests at once
        self._entries: OrderedDict[str, tuple[float, bytes, int]] = OrderedDict()

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return _MISSING
            if entry[0] <= time.monotonic():
                self._drop(key)
                return _MISSING
            self._entries.move_to_end(key)
        return pickle.loads(entry[1])  # noqa: S301 (this process pickled it)

    def set(self, key: str, value: Any, timeout: float) -> None:
        pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        cost = len(pickled) + len(key) + ENTRY_BYTES
        if cost > self.max_bytes // 16:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic() + timeout, pickled, cost)
            self.size += cost
            while self.size > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self.size -= self._entries.pop(key)[2]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0


LOCAL = LocalEntries(LOCAL_BYTES)
process_state.register("ledger: cached reads kept in memory", LOCAL.clear)


def enabled() -> bool:
    return settings.CASHMAN_LEDGER_CACHE_SECONDS > 0


def params_key(params: Mapping[str, Any], names: Iterable[str]) -> str:
    """A short digest of the query parameters that matter, in a stable order."""
    getlist = getattr(params, "getlist", None)
    parts = [
        f"{name}={getlist(name) if getlist else params[name]!r}"
        for name in sorted(names)
        if name in params
    ]
    return hashlib.blake2b("&".join(parts).encode(), digest_size=16).hexdigest()


def cached(user: Any, name: str, compute: Callable[[], T]) -> T:
    """The value stored under `name` for the user's generation (as loaded with `user`),
    computed on a miss."""
    if not enabled():
        return compute()
    key = f"{scope.cache_key(user)}:{name}"
    value = LOCAL.get(key)
    if value is not _MISSING:
        return value  # type: ignore[no-any-return]
    timeout = settings.CASHMAN_LEDGER_CACHE_SECONDS
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value, timeout=timeout)
    # A shared entry found here may have less than the timeout left; kept here as long, it
    # outlives it by at most that much, and is still the same answer for the same generation.
    LOCAL.set(key, value, timeout)
    return value  # type: ignore[return-value]


def ledgers_changed(*, ledger_ids: Iterable[int], user_ids: Iterable[int] = ()) -> None:
    """End the cached reads of every member of these ledgers, and of these users (one UPDATE of
    their user rows). The unit of work of every write (`ledger.services.unit_of_work`) calls it
    inside the write's transaction."""
    from ledger.models import Membership

    ledger_ids, user_ids = sorted(ledger_ids), sorted(user_ids)
    members = Q(pk__in=Membership.objects.filter(ledger__in=ledger_ids).values("user_id"))
    users = get_user_model().objects.filter(members | Q(pk__in=user_ids) if user_ids else members)
    users.update(ledger_generation=F("ledger_generation") + 1)

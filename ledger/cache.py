"""Per-user caching of ledger reads (summaries, list counts), dropped by any write of that user.

Each user has a generation token in the cache, and every cached read is stored under a key that
holds it. A write deletes the token (`ledger_changed`), so the next read starts a new generation
and the old entries are never read again: nothing has to find and delete them, they expire.

The token is deleted at once and again when the database transaction commits. The second delete
covers a read that ran between the two (it could not see the uncommitted rows, and stored its
answer under a generation that the commit then ends); the first covers a write whose transaction
is never committed in the usual sense (a test's atomic block).

Caching needs a cache shared by every process that writes (Redis): with a per-process cache, a
write in one gunicorn worker could not end another worker's generation. So it is on by default only
when REDIS_URL is set (`CASHMAN_LEDGER_CACHE_SECONDS`).
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")
_MISSING = object()


def enabled() -> bool:
    return settings.CASHMAN_LEDGER_CACHE_SECONDS > 0


def _generation_key(owner_id: Any) -> str:
    return f"ledger:generation:{owner_id}"


def _generation(owner_id: Any) -> str:
    key = _generation_key(owner_id)
    generation = cache.get(key)
    if generation is None:
        generation = uuid.uuid4().hex
        if not cache.add(key, generation, timeout=None):  # another request started one first
            generation = cache.get(key) or generation
    return generation


def params_key(params: Mapping[str, Any], names: Iterable[str]) -> str:
    """A short digest of the query parameters that matter, in a stable order."""
    getlist = getattr(params, "getlist", None)
    parts = [
        f"{name}={getlist(name) if getlist else params[name]!r}"
        for name in sorted(names)
        if name in params
    ]
    return hashlib.blake2b("&".join(parts).encode(), digest_size=16).hexdigest()


def cached(owner_id: Any, name: str, compute: Callable[[], T]) -> T:
    """The value stored for this user's current generation under `name`, computed on a miss."""
    if not enabled():
        return compute()
    key = f"ledger:{owner_id}:{_generation(owner_id)}:{name}"
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value, timeout=settings.CASHMAN_LEDGER_CACHE_SECONDS)
    return value  # type: ignore[return-value]


def ledger_changed(owner_id: Any) -> None:
    """End the user's generation: call on every write to their transactions or categories."""
    if not enabled():
        return
    key = _generation_key(owner_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key), robust=True)

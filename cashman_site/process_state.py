"""What a process keeps in memory for its life, each registered here with how to forget it:
compiled statements and serializer and filter parts, verified tokens, the rate-limit requests it
reserved or counted, cached ledger entries, services found not answering.

`reset()` forgets them all. The tests call it around every test, and every forked child (a
server or Celery worker) at its start, so nothing one test, or the parent, kept leaks into the
next. Whatever is registered must be safe to forget at any moment: it is only ever a cache.
"""

import os
from collections.abc import Callable

_RESETS: dict[str, Callable[[], None]] = {}


def register(name: str, forget: Callable[[], None]) -> None:
    """Keep `forget` to call on every reset, under a name that says what it forgets."""
    _RESETS[name] = forget


def registered() -> list[str]:
    return sorted(_RESETS)


def reset() -> None:
    for forget in list(_RESETS.values()):
        forget()


os.register_at_fork(after_in_child=reset)

"""Who may see and change what: the one rule every read, write, filter, admin query and cache key
of the ledger goes through.

Today a user's ledger is the rows they own: they see and change exactly those, and another user's
id answers as if it did not exist. Shared ledgers with roles will change this module, and only it.
"""

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def visible(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """The rows of `queryset` (transactions, their history records, categories, import jobs)
    that `user` may see. `user` may be an id: the fast paths' placeholder (cashman_site.fastpaths)."""
    return queryset.filter(owner=user)


def writable(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """The rows of `queryset` that `user` may change or delete: all they may see, for now."""
    return visible(queryset, user)


def owns(user: Any, instance: Any) -> bool:
    """Whether `instance` (a row with an owner) is in `user`'s ledger."""
    return instance.owner_id == getattr(user, "pk", user)


def cache_key(user: Any) -> str:
    """The part of a cached read's key that names whose ledger it is, and its generation: a
    write to the ledger raises the generation (ledger.cached_reads), so the key changes with it."""
    return f"ledger:{user.pk}:{user.ledger_generation}"

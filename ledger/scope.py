"""Who may see and change what: the one rule every read, write, filter, admin query and cache key
of the ledger goes through.

A user sees the rows of the ledgers they are a member of, whatever their role there; owners and
editors may change them, viewers only read them. A row of a ledger they are not in answers as if
it did not exist. Which ledgers and roles a user has is read once per generation of their cached
answers (`cache_key`): a change of membership raises the member's generation in the same database
transaction, so it holds from their very next request.
"""

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

from ledger.choices import WRITER_ROLES, Role
from ledger.models import ImportJob, Ledger, Membership, Transaction, Transfer

M = TypeVar("M", bound=Model)


def _ledger_path(model: type[Model]) -> str:
    """The lookup from a row of `model` to its ledger's id."""
    if model is Ledger:
        return "pk"
    if model is ImportJob:
        return "account__ledger"
    return "ledger"  # transactions and their history, categories, accounts, members, invitations


def roles(user: Any) -> dict[int, str]:
    """The user's ledgers and their role in each: `{ledger_id: role}`.

    Read once per user object, which authentication loads afresh for every request, and kept in
    the cache under the user's generation: a change of their memberships raises it (the unit of
    work), so the next request reads them again."""
    kept = user.__dict__.get("_ledger_roles")
    if kept is not None and kept[0] == user.ledger_generation:
        return kept[1]  # type: ignore[no-any-return]
    from ledger import cached_reads  # it builds its keys here

    def read() -> dict[int, str]:
        rows = Membership.objects.filter(user=user).order_by()  # no join for the ordering
        return dict(rows.values_list("ledger_id", "role"))

    found = cached_reads.cached(user, "roles", read)
    user.__dict__["_ledger_roles"] = (user.ledger_generation, found)
    return found


def forget(user: Any) -> None:
    """Drop the roles read with this user object, after a change of their memberships in this
    process: the next read gets them afresh, under the generation that change raised."""
    user.__dict__.pop("_ledger_roles", None)
    if getattr(user, "pk", None) is not None:
        user.refresh_from_db(fields=["ledger_generation"])


def role(user: Any, ledger_id: int | None) -> str | None:
    """The user's role in that ledger; None when they are not a member."""
    return roles(user).get(ledger_id) if ledger_id is not None else None


def _ledgers(user: Any, allowed: tuple[str, ...] | None = None) -> Any:
    if isinstance(user, int):
        # An id: the fast paths' placeholder (cashman_site.fastpaths), compiled once for every
        # user, so the ledgers are a subquery rather than a list read beforehand.
        members = Membership.objects.filter(user=user)
        if allowed is not None:
            members = members.filter(role__in=allowed)
        return members.values("ledger_id")
    return sorted(i for i, r in roles(user).items() if allowed is None or r in allowed)


def visible(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """The rows of `queryset` (ledgers, accounts, transactions, their history records,
    categories, members, invitations, import jobs, transfers) that `user` may see. `user` may be
    an id."""
    if queryset.model is Transfer:
        return _whole_transfers(queryset, _ledgers(user))
    return queryset.filter(**{f"{_ledger_path(queryset.model)}__in": _ledgers(user)})


def _whole_transfers(queryset: QuerySet[M], ledgers: Any) -> QuerySet[M]:
    """The transfers with a leg in these ledgers and none elsewhere: a transfer is read and
    changed whole."""
    legs = Transaction.objects.filter(transfer__isnull=False)
    return queryset.filter(pk__in=legs.filter(ledger__in=ledgers).values("transfer_id")).exclude(
        pk__in=legs.exclude(ledger__in=ledgers).values("transfer_id")
    )


def writable(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """The rows of `queryset` that `user` may change: those of ledgers where they are an owner
    or an editor."""
    if queryset.model is Transfer:
        return _whole_transfers(queryset, _ledgers(user, WRITER_ROLES))
    return queryset.filter(**{f"{_ledger_path(queryset.model)}__in": _ledgers(user, WRITER_ROLES)})


def may_write(user: Any, ledger_id: int | None) -> bool:
    return role(user, ledger_id) in WRITER_ROLES


def may_write_now(user: Any, ledger_ids: set[int]) -> bool:
    """Whether the user may write all these ledgers, read from the database now (not from the
    roles kept for the request): for work that outlasts a request, an import's batches."""
    rows = Membership.objects.filter(user=user, ledger__in=ledger_ids, role__in=WRITER_ROLES)
    return rows.count() == len(ledger_ids)


def require_write(user: Any, *ledger_ids: int | None) -> None:
    """Refuse (403) a write in a ledger the user only views. The caller has already found the
    row among those the user may see: a ledger they are not in never gets this far."""
    for ledger_id in ledger_ids:
        if not may_write(user, ledger_id):
            raise PermissionDenied("Your role in this ledger lets you read it, not change it.")


def require_owner(user: Any, ledger_id: int) -> None:
    """Refuse (403) what only a ledger's owners may do: its members, invitations, name."""
    if role(user, ledger_id) != Role.OWNER:
        raise PermissionDenied("Only an owner of this ledger may do this.")


def cache_key(user: Any) -> str:
    """The part of a cached read's key that names whose answers they are, and their generation:
    a write to any of the user's ledgers, or a change of their memberships, raises it (the unit
    of work), so the key changes with it. Answers are never shared between users."""
    return f"ledger:{user.pk}:{user.ledger_generation}"

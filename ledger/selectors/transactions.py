"""Transactions, categories and imports, already scoped to one user; the transaction list's rows."""

import functools
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from cashman_site import process_state
from cashman_site.statements import (
    PLACEHOLDER,
    IdStatement,
    ShapedStatements,
    Statement,
    where_clause,
)
from ledger import scope
from ledger.models import Category, ImportJob, Transaction

#: The columns a transaction's representation is built from, as `QuerySet.values()` names them.
TRANSACTION_VALUES = (
    "id",
    "type",
    "description",
    "amount",
    "date",
    "category_id",
    "category__name",
    "created_at",
    "updated_at",
)


def transactions_for(
    *, user: User | int, transaction_type: str | None = None
) -> QuerySet[Transaction]:
    """The user's transactions (`user` may be an id), of one type when given."""
    transactions = scope.visible(Transaction.objects.all(), user).select_related("category")
    if transaction_type is not None:
        transactions = transactions.filter(type=transaction_type)
    return transactions


class _ListedRows:
    """A transaction list's rows as a paginator takes them: `count()`, and slices of the dicts
    `values(*TRANSACTION_VALUES)` gives."""

    ordered = True  # for Django's paginator, which warns about unordered lists

    def count(self) -> int:
        raise NotImplementedError

    def _page(self, low: int, high: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def __getitem__(self, key: slice) -> list[dict[str, Any]]:
        if not isinstance(key, slice) or key.step is not None or key.stop is None:
            raise TypeError("A list's rows take a slice with a stop and no step.")
        if key.stop <= (key.start or 0):
            return []  # an empty page: the queryset would send nothing either
        return self._page(key.start or 0, key.stop)


def _dicts(rows: list[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(TRANSACTION_VALUES, row, strict=True)) for row in rows]


class TransactionRows(_ListedRows):
    """One user's transactions as the list gives them, unfiltered: the rows of
    `transactions_for(...).order_by(*ordering).values(*TRANSACTION_VALUES)`, through statements
    compiled once per type and ordering (`cashman_site.statements`) instead of a queryset built
    and compiled for every request. The SQL is the queryset's own.
    """

    def __init__(
        self, *, user: User, transaction_type: str | None, ordering: Sequence[str]
    ) -> None:
        self.user_id = user.pk
        self.shape = (transaction_type, tuple(ordering))

    def count(self) -> int:
        return _count_statement(*self.shape).rows(self.user_id)[0][0]

    def _page(self, low: int, high: int) -> list[dict[str, Any]]:
        return _dicts(_page_statement(*self.shape, low, high).rows(self.user_id))


#: Statements of filtered lists' values() querysets, by the filters given (not their values),
#: the ordering and the statement (the count, or a slice).
_FILTERED = ShapedStatements(size=512)
process_state.register("ledger: filtered list statements", _FILTERED.entries.clear)


class FilteredTransactionRows(_ListedRows):
    """A filtered list's rows: those of `transactions` (filtered and ordered) as
    `values(*TRANSACTION_VALUES)` gives them. For each request only the WHERE clause is
    compiled; the count and page statements are made from the first queryset with the same
    filters and ordering, and run with this one's parameters
    (`cashman_site.statements.ShapedStatements`). The SQL is the values() queryset's own, which
    is built only when a statement is made, or when none can be kept."""

    def __init__(self, transactions: QuerySet[Transaction]) -> None:
        self.transactions = transactions
        self.where = where_clause(transactions)

    @functools.cached_property
    def queryset(self) -> QuerySet[Transaction, dict[str, Any]]:
        return self.transactions.values(*TRANSACTION_VALUES)

    def _statement(self, kind: Any, run: Any, *, converted: bool) -> Statement | None:
        if self.where is None:
            return None

        def make() -> Statement:
            return Statement(self.queryset, run, columns=self.queryset if converted else None)

        return _FILTERED.statement(self.transactions, self.where, kind, make)

    def count(self) -> int:
        statement = self._statement("count", QuerySet.count, converted=False)
        if statement is None:
            return self.queryset.count()
        return statement.execute(self.where[1])[0][0]  # type: ignore[index]

    def _page(self, low: int, high: int) -> list[dict[str, Any]]:
        run = lambda rows: list(rows[low:high])  # noqa: E731
        statement = self._statement(("page", low, high), run, converted=True)
        if statement is None:
            return list(self.queryset[low:high])
        return _dicts(statement.execute(self.where[1]))  # type: ignore[index]


def _listed(transaction_type: str | None, ordering: tuple[str, ...]) -> QuerySet[Transaction]:
    return (
        transactions_for(user=PLACEHOLDER, transaction_type=transaction_type)
        .order_by(*ordering)
        .values(*TRANSACTION_VALUES)
    )


@functools.lru_cache(maxsize=64)
def _count_statement(transaction_type: str | None, ordering: tuple[str, ...]) -> IdStatement:
    return IdStatement(_listed(transaction_type, ordering), QuerySet.count)


@functools.lru_cache(maxsize=256)
def _page_statement(
    transaction_type: str | None, ordering: tuple[str, ...], low: int, high: int
) -> IdStatement:
    rows = _listed(transaction_type, ordering)
    return IdStatement(rows, lambda rows: list(rows[low:high]), columns=rows)


process_state.register("ledger: list count statements", _count_statement.cache_clear)
process_state.register("ledger: list page statements", _page_statement.cache_clear)


def categories_for(*, user: User) -> QuerySet[Category]:
    return scope.visible(Category.objects.all(), user)


def import_jobs_for(*, user: User) -> QuerySet[ImportJob]:
    return scope.visible(ImportJob.objects.all(), user)

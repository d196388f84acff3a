"""Every read of the ledger, already scoped to one user."""

import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Count, F, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from accounts.models import User
from cashman_site.statements import (
    PLACEHOLDER,
    IdStatement,
    ShapedStatements,
    Statement,
    where_clause,
)
from ledger.choices import TransactionType
from ledger.models import Category, ImportJob, Transaction

MONEY_TOTALS = ("income", "expense", "balance")


class Cents(Func):
    """An amount as a whole number of cents.

    Sums are taken over cents, as integers, so they are exact on every database: SQLite keeps
    decimals as floating point and Django reads them back with 15 significant digits.
    """

    template = "CAST(ROUND(%(expressions)s * 100) AS BIGINT)"
    output_field = BigIntegerField()


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
    transactions = Transaction.objects.filter(owner=user).select_related("category")
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


def categories_for(*, user: User) -> QuerySet[Category]:
    return Category.objects.filter(owner=user)


def _totals() -> dict[str, Any]:
    """Aggregates computed by the database: income, expense (negative), balance and count."""

    def cents(condition: Q | None = None) -> Coalesce:
        return Coalesce(Sum(Cents("amount"), filter=condition), Value(0))

    return {
        "income": cents(Q(type=TransactionType.INCOME)),
        "expense": cents(Q(type=TransactionType.EXPENSE)),
        "balance": cents(),
        "count": Count("id"),
    }


def _to_money(row: Any) -> dict[str, Any]:
    """The totals of one aggregate row, cents turned back into Decimal amounts."""
    return {
        **{key: Decimal(row[key]).scaleb(-2) for key in MONEY_TOTALS},
        "count": row["count"],
    }


def _ungrouped(transactions: QuerySet[Transaction]) -> QuerySet[Transaction]:
    return transactions.select_related(None).order_by()


def _monthly(transactions: QuerySet[Transaction]) -> QuerySet[Any, Any]:
    return (
        _ungrouped(transactions)
        .annotate(month_start=TruncMonth("date"))
        .values("month_start")
        .annotate(**_totals())
        .order_by("-month_start")
    )


def _month_row(row: dict[str, Any]) -> dict[str, Any]:
    # "YYYY-MM": isoformat() is C and pads the year; strftime took more than the row's totals.
    return {"month": row["month_start"].isoformat()[:7], **_to_money(row)}


def _by_category(transactions: QuerySet[Transaction]) -> QuerySet[Any, Any]:
    return (
        _ungrouped(transactions)
        .values("category", "category__name")
        .annotate(**_totals())
        .order_by(F("category__name").asc(nulls_last=True), "category")
    )


def _category_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"category": row["category"], "category_name": row["category__name"], **_to_money(row)}


def summary_total(*, transactions: QuerySet[Transaction]) -> dict[str, Any]:
    return _to_money(_ungrouped(transactions).aggregate(**_totals()))


def summary_monthly(*, transactions: QuerySet[Transaction]) -> list[dict[str, Any]]:
    """One row per calendar month that has transactions, newest first."""
    return [_month_row(row) for row in _monthly(transactions)]


def summary_by_category(*, transactions: QuerySet[Transaction]) -> list[dict[str, Any]]:
    """One row per category used in the set, and one (category null) for uncategorised rows."""
    return [_category_row(row) for row in _by_category(transactions)]


# The same summaries of all of a user's transactions, through statements compiled once
# (`IdStatement`): building the summaries' querysets (the month, four conditional sums) took
# more than twice as long as running their statements.


@functools.cache
def _summary_statement(summary: str) -> tuple[IdStatement, tuple[str, ...]]:
    """The statement of a summary of all of one user's transactions, and its columns' names."""
    transactions = transactions_for(user=PLACEHOLDER)
    if summary == "total":
        totals = _totals()
        ungrouped = _ungrouped(transactions)
        return IdStatement(ungrouped, lambda rows: rows.aggregate(**totals)), tuple(totals)
    rows = {"monthly": _monthly, "by-category": _by_category}[summary](transactions)
    query = rows.query
    names = (*query.extra_select, *query.values_select, *query.annotation_select)
    return IdStatement(rows, list, columns=rows), names


def _summary_rows(summary: str, user: User) -> list[dict[str, Any]]:
    statement, names = _summary_statement(summary)
    return [dict(zip(names, row, strict=True)) for row in statement.rows(user.pk)]


def summary_total_of(*, user: User) -> dict[str, Any]:
    """`summary_total` of all the user's transactions."""
    return _to_money(_summary_rows("total", user)[0])


def summary_monthly_of(*, user: User) -> list[dict[str, Any]]:
    """`summary_monthly` of all the user's transactions."""
    return [_month_row(row) for row in _summary_rows("monthly", user)]


def summary_by_category_of(*, user: User) -> list[dict[str, Any]]:
    """`summary_by_category` of all the user's transactions."""
    return [_category_row(row) for row in _summary_rows("by-category", user)]


HISTORY_FIELDS = ("type", "description", "amount", "date", "category_id", "version")
HISTORY_TYPES = {"+": "created", "~": "updated", "-": "deleted"}


def _plain(value: Any) -> Any:
    """A JSON-safe value for a diff: money as a two-place string, dates in ISO form."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def transaction_history(*, user: User, transaction_id: Any) -> list[dict[str, Any]]:
    """The owner's view of one transaction's history, oldest first, each entry with its diff.

    Empty when the id is not a transaction of `user` (now or before it was deleted).
    """
    try:
        pk = int(transaction_id)
    except (TypeError, ValueError):
        return []
    records = (
        Transaction.history.filter(id=pk, owner_id=user.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    entries: list[dict[str, Any]] = []
    before: dict[str, Any] = {}
    for record in records:
        after = {field: getattr(record, field) for field in HISTORY_FIELDS}
        changes = [
            {
                "field": field.removesuffix("_id"),
                "before": _plain(before.get(field)),
                "after": _plain(value),
            }
            for field, value in after.items()
            if field != "version" and before and before.get(field) != value
        ]
        entries.append(
            {
                "history_id": record.history_id,
                "action": HISTORY_TYPES[record.history_type],
                "at": record.history_date,
                "by": record.history_user.email if record.history_user else None,
                "values": {field.removesuffix("_id"): value for field, value in after.items()},
                "changes": changes,
            }
        )
        before = after
    return entries


def import_jobs_for(*, user: User) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(owner=user)

"""The ledger's summaries: totals, by month and by category, of a set of transactions, read from
the transactions themselves or from their rollups (`ledger.selectors.rollups`)."""

from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db.models import BigIntegerField, Count, F, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from cashman_site import fastpaths
from ledger.choices import TransactionType
from ledger.models import MonthTotal, Transaction
from ledger.selectors.rollups import RollupSet, merge

MONEY_TOTALS = ("income", "expense", "balance", "transfers_in", "transfers_out")


class Cents(Func):
    """An amount as a whole number of cents.

    Sums are taken over cents, as integers, so they are exact on every database: SQLite keeps
    decimals as floating point and Django reads them back with 15 significant digits.
    """

    template = "CAST(ROUND(%(expressions)s * 100) AS BIGINT)"
    output_field = BigIntegerField()


def _totals() -> dict[str, Any]:
    """Aggregates computed by the database: income, expense (negative), their balance, the
    transfers' legs in and out (negative), and the count of rows, legs included. A transfer only
    moves money between accounts: it is neither income nor expense."""

    def cents(condition: Q | None = None) -> Coalesce:
        return Coalesce(Sum(Cents("amount"), filter=condition), Value(0))

    transfer = Q(type=TransactionType.TRANSFER)
    return {
        "income": cents(Q(type=TransactionType.INCOME)),
        "expense": cents(Q(type=TransactionType.EXPENSE)),
        "balance": cents(~transfer),
        "transfers_in": cents(transfer & Q(amount__gt=0)),
        "transfers_out": cents(transfer & Q(amount__lt=0)),
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
        .order_by()
    )


def _category_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"category": row["category"], "category_name": row["category__name"], **_to_money(row)}


def _rollup_totals() -> dict[str, Any]:
    """`_totals` read from rollups: incomes are positive and expenses negative (a check
    constraint), so an income's amount is its inflow and an expense's its outflow."""

    def cents(column: Any, condition: Q | None = None) -> Coalesce:
        return Coalesce(Sum(column, filter=condition), Value(0))

    transfer = Q(type=TransactionType.TRANSFER)
    return {
        "income": cents("inflow", Q(type=TransactionType.INCOME)),
        "expense": cents("outflow", Q(type=TransactionType.EXPENSE)),
        "balance": cents(F("inflow") + F("outflow"), ~transfer),
        "transfers_in": cents("inflow", transfer),
        "transfers_out": cents("outflow", transfer),
        "count": cents("transactions"),
    }


_SUMMED = (*MONEY_TOTALS, "count")

#: What a summary reads: the transactions themselves, or their rollups.
Source = QuerySet[Transaction] | RollupSet


def summary_total(*, transactions: Source) -> dict[str, Any]:
    if isinstance(transactions, RollupSet):
        parts = [
            fastpaths.aggregate(part, "rollup totals", _rollup_totals())
            for part in transactions.parts()
        ]
        return _to_money(merge(parts, lambda row: None, _SUMMED)[0] if parts else _empty())
    return _to_money(_ungrouped(transactions).aggregate(**_totals()))


def summary_monthly(*, transactions: Source) -> list[dict[str, Any]]:
    """One row per calendar month that has transactions, newest first."""
    if isinstance(transactions, RollupSet):
        rows = []
        for part in transactions.parts():
            month = F("date") if part.model is MonthTotal else TruncMonth("date")
            monthly = part.annotate(month_start=month).values("month_start")
            rows += fastpaths.grouped_rows(monthly.annotate(**_rollup_totals()), "rollup monthly")
        merged = merge(rows, itemgetter("month_start"), _SUMMED)
        return [
            _month_row(row) for row in sorted(merged, key=itemgetter("month_start"), reverse=True)
        ]
    return [_month_row(row) for row in _monthly(transactions)]


def summary_by_category(*, transactions: Source) -> list[dict[str, Any]]:
    """One row per category used in the set, and one (category null) for uncategorised rows."""
    if isinstance(transactions, RollupSet):
        rows = []
        for part in transactions.parts():
            by_category = part.values("category", "category__name").annotate(**_rollup_totals())
            rows += fastpaths.grouped_rows(by_category, "rollup by category")
        rows = merge(rows, itemgetter("category"), _SUMMED)
    else:
        rows = list(_by_category(transactions))
    return [_category_row(row) for row in sorted(rows, key=_category_order)]


def _category_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """By name whatever its case (the same on every database and collation), uncategorised
    last, then by id: names are unique per ledger, not across a user's ledgers."""
    name = row["category__name"]
    return (name is None, (name or "").casefold(), name or "", row["category"] or 0)


def _empty() -> dict[str, int]:
    return dict.fromkeys(_SUMMED, 0)

"""The ledger's summaries: totals, by month and by category, of a set of transactions or of all of
one user's."""

from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Count, F, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from accounts.models import User
from cashman_site import fastpaths
from ledger.choices import TransactionType
from ledger.models import Transaction
from ledger.selectors.transactions import transactions_for

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


# The same summaries of all of a user's transactions, through a fast path
# (`cashman_site.fastpaths`): their statements differ only by the user's id.


def _all_ungrouped(user_id: int) -> QuerySet[Transaction]:
    return _ungrouped(transactions_for(user=user_id))


def _all_monthly(user_id: int) -> QuerySet[Any, Any]:
    return _monthly(transactions_for(user=user_id))


def _all_by_category(user_id: int) -> QuerySet[Any, Any]:
    return _by_category(transactions_for(user=user_id))


def summary_total_of(*, user: User) -> dict[str, Any]:
    """`summary_total` of all the user's transactions."""
    return _to_money(fastpaths.aggregate_for_id(_all_ungrouped, _totals, user.pk))


def summary_monthly_of(*, user: User) -> list[dict[str, Any]]:
    """`summary_monthly` of all the user's transactions."""
    return [_month_row(row) for row in fastpaths.rows_for_id(_all_monthly, user.pk)]


def summary_by_category_of(*, user: User) -> list[dict[str, Any]]:
    """`summary_by_category` of all the user's transactions."""
    return [_category_row(row) for row in fastpaths.rows_for_id(_all_by_category, user.pk)]

"""Rebuilding the rollups (`ledger.models.rollups`) and checking them against the transactions.

The triggers keep them exact; these are for what no trigger sees: a restore of a database dump
with triggers off, a table truncated by hand, or a doubt.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from ledger.migrations._rollups import fill_statements
from ledger.models import DayTotal, Ledger, MonthTotal, Transaction
from ledger.models.rollups import KEY_FIELDS
from ledger.selectors.summaries import Cents

#: A rollup row's key and its numbers, as compared.
KEY_COLUMNS = tuple(
    f"{name}_id" if name in ("ledger", "account", "category") else name for name in KEY_FIELDS
)


@dataclass(frozen=True)
class Drift:
    """A key whose stored rollup differs from what its transactions add up to (None: no row)."""

    table: str
    key: tuple[Any, ...]
    expected: tuple[int, int, int] | None
    stored: tuple[int, int, int] | None


def rebuild() -> None:
    """Recompute both tables from the transactions, writes held off meanwhile."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Writers wait (their triggers would write the rollups being replaced); readers go
            # on reading the old rows until the commit.
            cursor.execute("LOCK TABLE ledger_transaction IN SHARE ROW EXCLUSIVE MODE")
        for statement in fill_statements(connection.vendor):
            cursor.execute(statement)


def _expected(ledger_id: int, monthly: bool) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    rows = Transaction.objects.filter(ledger_id=ledger_id).order_by()
    rows = rows.annotate(period=TruncMonth("date") if monthly else F("date"))
    grouped = rows.values(*KEY_COLUMNS, "period").annotate(
        n=Count("id"),
        plus=Coalesce(Sum(Cents("amount"), filter=Q(amount__gt=0)), Value(0)),
        minus=Coalesce(Sum(Cents("amount"), filter=Q(amount__lt=0)), Value(0)),
    )
    return {
        (*(row[c] for c in KEY_COLUMNS), row["period"]): (row["n"], row["plus"], row["minus"])
        for row in grouped
    }


def _stored(model: Any, ledger_id: int) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    rows = model.objects.filter(ledger_id=ledger_id).values_list(
        *KEY_COLUMNS, "date", "transactions", "inflow", "outflow"
    )
    return {tuple(row[:-3]): tuple(row[-3:]) for row in rows}


def drift(ledger_ids: list[int] | None = None) -> Iterator[Drift]:
    """Every difference between the rollups and the transactions, one ledger at a time (so that
    memory is bounded by the largest ledger). Rollup rows of ledgers that no longer exist count
    too."""
    ids = ledger_ids
    if ids is None:
        ids = sorted(
            set(Ledger.objects.values_list("id", flat=True))
            | set(DayTotal.objects.values_list("ledger_id", flat=True).distinct())
            | set(MonthTotal.objects.values_list("ledger_id", flat=True).distinct())
        )
    for ledger_id in ids:
        for model, monthly in ((DayTotal, False), (MonthTotal, True)):
            expected = _expected(ledger_id, monthly)
            stored = _stored(model, ledger_id)
            for key in sorted(expected.keys() | stored.keys(), key=repr):
                if expected.get(key) != stored.get(key):
                    yield Drift(model._meta.db_table, key, expected.get(key), stored.get(key))

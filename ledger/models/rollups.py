"""Rollups: the transactions' counts and sums per ledger, account, category, type, status and day
(`DayTotal`) or month (`MonthTotal`), so that summaries, balances and list counts read a number of
rows bounded by the calendar, not by the number of transactions.

The database keeps them: triggers on `ledger_transaction` (`ledger/migrations/_rollups.py`) apply
every insert, update and delete to both tables in the same transaction, whatever wrote it (the
API, an import's `COPY`, the admin, a cascade). Django never writes them; `manage.py
rebuild_rollups` recomputes them from the transactions, and `--check` reports any difference.
"""

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from ledger.models.households import Account, Ledger

#: The columns a rollup row is keyed by, besides its date.
KEY_FIELDS = ("ledger", "account", "category", "type", "status")


class Rollup(models.Model):
    """One key's count and sums. Amounts are whole cents, like the summaries' sums: exact on
    every database. `inflow` sums the positive amounts, `outflow` the negative ones, so a
    transfer's legs in and out stay apart."""

    # Keys only: no database constraint (a cascade would race the triggers), no index of their
    # own (the unique index below starts with the ledger), nothing for Django to cascade.
    ledger = models.ForeignKey(
        Ledger, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    category = models.ForeignKey(
        "ledger.Category",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    type = models.CharField(max_length=8)
    status = models.CharField(max_length=10)
    date = models.DateField()
    transactions = models.IntegerField(help_text="How many transactions.")
    inflow = models.BigIntegerField(help_text="Sum of the positive amounts, in cents.")
    outflow = models.BigIntegerField(help_text="Sum of the negative amounts, in cents.")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.date} {self.type} x{self.transactions}"


def _unique_key(name: str) -> models.UniqueConstraint:
    # The triggers' ON CONFLICT names exactly these expressions. No category is 0 in the key, so
    # that the uncategorised rows of a day share one row on both databases.
    return models.UniqueConstraint(
        F("ledger"),
        F("date"),
        F("account"),
        Coalesce(F("category"), Value(0)),
        F("type"),
        F("status"),
        name=name,
    )


class DayTotal(Rollup):
    """The transactions of one key on one day."""

    class Meta:
        constraints = [_unique_key("ledger_daytotal_key")]


class MonthTotal(Rollup):
    """The transactions of one key in one calendar month; `date` is the month's first day."""

    class Meta:
        constraints = [_unique_key("ledger_monthtotal_key")]

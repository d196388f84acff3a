"""Streaming exports of a user's transactions: CSV, and a Cashman JSON that imports back
(its ledgers, accounts, categories and transfers in its first line, then a transaction a line).

Rows are read from the database in chunks and written out one by one, so memory stays flat
whatever the ledger's size. Text cells of a CSV go through `spreadsheet_text`, so that a
spreadsheet never runs one as a formula.
"""

import csv
import itertools
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from ledger.export_format import EXPORT_FORMAT, export_server
from ledger.imports import export_source
from ledger.models import Account, Category, Ledger, Transaction, Transfer

CSV_COLUMNS = ["date", "type", "description", "amount", "category", "external_id"]
CHUNK = 2000
#: The JSON export's version: 2 added ledgers, accounts, transfers and `server` to the header,
#: and account, ledger, status and transfer to each transaction. Every version imports.
VERSION = 2
# A spreadsheet reads a cell starting with one of these as a formula (OWASP's CSV injection
# list); "'" itself is added so that the prefix can be removed again without loss.
FORMULA_PREFIX = "'"
FORMULA_TRIGGERS = frozenset("=+-@\t\r'")


def spreadsheet_text(value: str | None) -> str:
    """A text cell for a CSV: prefixed with `'` when a spreadsheet would take it for a formula
    (or when it already starts with `'`, so that the import can remove exactly one)."""
    if not value:
        return ""
    return FORMULA_PREFIX + value if value[0] in FORMULA_TRIGGERS else value


class _Line:
    def write(self, value: str) -> str:
        return value


def _rows(transactions: QuerySet[Transaction]) -> Iterator[tuple]:
    return (
        transactions.order_by("date", "id")
        .values_list(
            "id",
            "date",
            "type",
            "description",
            "amount",
            "category__name",
            "external_id",
            "account_id",
            "ledger_id",
            "status",
            "transfer_id",
        )
        .iterator(chunk_size=CHUNK)
    )


def export_csv(*, transactions: QuerySet[Transaction]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for _id, date, type_, description, amount, category, external_id, *_ in _rows(transactions):
        yield writer.writerow(
            [
                date.isoformat(),
                spreadsheet_text(type_),
                spreadsheet_text(description),
                f"{amount:.2f}",
                spreadsheet_text(category),
                spreadsheet_text(external_id),
            ]
        )


def export_json(
    *,
    owner: User,
    transactions: QuerySet[Transaction],
    categories: QuerySet[Category],
    ledgers: QuerySet[Ledger],
    accounts: QuerySet[Account],
    transfers: QuerySet[Transfer],
) -> Iterator[str]:
    """One transaction a line, so that the importer can stream it back; the rest (the user's
    ledgers and their categories, their accounts, the transfers with a leg among the
    transactions) in the first line, read before them."""
    names = list(categories.order_by("name", "id").values_list("ledger_id", "name"))
    header = {
        "format": EXPORT_FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "source": export_source(owner),
        "server": export_server(),
        "categories": [name for _, name in names],
        "ledgers": _ledgers(ledgers, names),
        "accounts": _accounts(accounts),
        "transfers": _transfers(transfers.filter(legs__in=transactions.values("pk"))),
    }
    yield json.dumps(header)[:-1] + ",\n"
    yield '"transactions": [\n'
    separator = ""
    for (
        id_,
        date,
        type_,
        description,
        amount,
        category,
        external_id,
        account_id,
        ledger_id,
        status,
        transfer_id,
    ) in _rows(transactions):
        row = {
            "id": id_,
            "date": date.isoformat(),
            "type": type_,
            "description": description,
            "amount": f"{amount:.2f}",
            "category": category,
            "external_id": external_id,
            "account": account_id,
            "ledger": ledger_id,
            "status": status,
            "transfer": transfer_id,
        }
        yield separator + json.dumps(row)
        separator = ",\n"
    yield "\n]}\n"


def _ledgers(ledgers: QuerySet[Ledger], names: list[tuple[int, str]]) -> list[dict[str, Any]]:
    rows = ledgers.order_by("id").values_list("id", "name", "personal_for_id")
    return [
        {
            "id": id_,
            "name": name,
            "personal": personal_for is not None,
            "categories": [category for ledger_id, category in names if ledger_id == id_],
        }
        for id_, name, personal_for in rows
    ]


def _accounts(accounts: QuerySet[Account]) -> list[dict[str, Any]]:
    fields = ("id", "ledger", "name", "kind", "opening_balance", "opening_date", "archived")
    found = []
    for values in accounts.order_by("ledger_id", "id").values(*fields):
        values["opening_balance"] = f"{values['opening_balance']:.2f}"
        values["opening_date"] = values["opening_date"].isoformat()
        found.append(values)
    return found


def _transfers(transfers: QuerySet[Transfer]) -> list[dict[str, Any]]:
    """The transfers, each from its legs (the one leaving its account is the negative one)."""
    legs = (
        Transaction.objects.filter(transfer__in=transfers.values("pk"))
        .order_by("transfer_id", "amount", "id")
        .values_list("transfer_id", "id", "account_id", "amount", "date", "description")
    )
    found = []
    for transfer_id, pair in itertools.groupby(legs.iterator(chunk_size=CHUNK), lambda leg: leg[0]):
        both = list(pair)
        if len(both) != 2:
            continue  # a transfer that lost a leg is not one to make again
        (_, out_id, out_account, _, date, description), (_, in_id, in_account, amount, *_) = both
        found.append(
            {
                "id": transfer_id,
                "from_account": out_account,
                "to_account": in_account,
                "amount": f"{amount:.2f}",
                "date": date.isoformat(),
                "description": description,
                "from_transaction": out_id,
                "to_transaction": in_id,
            }
        )
    return found

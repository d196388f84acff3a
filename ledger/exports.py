"""Streaming exports of a user's transactions: CSV, and a lossless Cashman JSON that imports back.

Rows are read from the database in chunks and written out one by one, so memory stays flat
whatever the ledger's size. Text cells of a CSV go through `spreadsheet_text`, so that a
spreadsheet never runs one as a formula.
"""

import csv
import json
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from ledger.imports import EXPORT_FORMAT, export_source
from ledger.models import Category, Transaction

CSV_COLUMNS = ["date", "type", "description", "amount", "category", "external_id"]
CHUNK = 2000
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
        .values_list("id", "date", "type", "description", "amount", "category__name", "external_id")
        .iterator(chunk_size=CHUNK)
    )


def export_csv(*, transactions: QuerySet[Transaction]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for _id, date, type_, description, amount, category, external_id in _rows(transactions):
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
    *, owner: User, transactions: QuerySet[Transaction], categories: QuerySet[Category]
) -> Iterator[str]:
    """One transaction a line, so that the importer can stream it back."""
    header = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "exported_at": timezone.now().isoformat(),
        "source": export_source(owner),
        "categories": list(categories.order_by("name").values_list("name", flat=True)),
    }
    yield json.dumps(header)[:-1] + ",\n"
    yield '"transactions": [\n'
    separator = ""
    for id_, date, type_, description, amount, category, external_id in _rows(transactions):
        row = {
            "id": id_,
            "date": date.isoformat(),
            "type": type_,
            "description": description,
            "amount": f"{amount:.2f}",
            "category": category,
            "external_id": external_id,
        }
        yield separator + json.dumps(row)
        separator = ",\n"
    yield "\n]}\n"

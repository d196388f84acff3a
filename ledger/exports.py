"""Streaming exports of a user's transactions: CSV, and a lossless Cashman JSON that imports back.

Rows are read from the database in chunks and written out one by one, so memory stays flat
whatever the ledger's size.
"""

import csv
import json
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from ledger.imports import EXPORT_FORMAT
from ledger.models import Category, Transaction

CSV_COLUMNS = ["date", "type", "description", "amount", "category", "external_id"]
CHUNK = 2000


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
                type_,
                description,
                f"{amount:.2f}",
                category or "",
                external_id or "",
            ]
        )


def export_json(
    *, transactions: QuerySet[Transaction], categories: QuerySet[Category]
) -> Iterator[str]:
    """One transaction a line, so that the importer can stream it back."""
    header = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "exported_at": timezone.now().isoformat(),
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

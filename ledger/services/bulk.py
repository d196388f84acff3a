"""Many transactions written at once, for the batch endpoint and for imports: inserted in large
batches (with PostgreSQL's COPY, history records included), in one unit of work."""

import datetime
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from ledger.bulk import CREATED, DUPLICATE, INVALID, RowResult, mark_duplicates, validated
from ledger.models import Transaction
from ledger.services.unit_of_work import unit_of_work

HISTORY_CHANGE_REASON = "bulk"


def insert(owner: User, transactions: Iterable[Transaction], *, batch_size: int) -> list[int]:
    """Insert in batches, with one history record each; returns the new ids in order.

    On PostgreSQL both tables are written with COPY, in one go: `bulk_create`'s per-value
    preparation and the history instances it builds dominated an import's time (the gain is in
    bench/README.md). Elsewhere, with
    django-simple-history's `bulk_create_with_history` in `batch_size` batches. The records are
    the same either way.
    """
    rows = list(transactions)
    with unit_of_work(owner.pk):
        if connection.vendor == "postgresql":
            _copy_with_history(owner, rows)
        else:
            bulk_create_with_history(
                rows,
                Transaction,
                batch_size=batch_size,
                default_user=owner,
                default_change_reason=HISTORY_CHANGE_REASON,
            )
    return [tx.pk for tx in rows]


def _copy_with_history(owner: User, rows: list[Transaction]) -> None:
    if not rows:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        # Ids drawn from the table's own sequence, as an INSERT would, so the history can name them.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Transaction._meta.db_table, len(rows)],
        )
        for tx, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            tx.pk = pk
        fields = Transaction._meta.concrete_fields
        _copy(cursor, Transaction, fields, ([f.pre_save(tx, True) for f in fields] for tx in rows))
        history = Transaction.history.model  # type: ignore[attr-defined]
        special = {
            "history_date": now,
            "history_change_reason": HISTORY_CHANGE_REASON,
            "history_type": "+",
            "history_user_id": owner.pk,
        }
        tracked = [f for f in history._meta.concrete_fields if f.attname != "history_id"]
        _copy(
            cursor,
            history,
            tracked,
            (
                [
                    special[f.attname] if f.attname in special else getattr(tx, f.attname)
                    for f in tracked
                ]
                for tx in rows
            ),
        )


def _copy(
    cursor: Any, model: type[Model], fields: Sequence[Any], rows: Iterable[list[Any]]
) -> None:
    """COPY rows (values in `fields` order) into the model's table, in PostgreSQL's text format.
    Values go in as Python holds them, as `bulk_create` would send them."""
    buffer = io.StringIO()
    for values in rows:
        buffer.write("\t".join(map(_copy_text, values)))
        buffer.write("\n")
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.wrap_database_errors:  # a constraint's refusal is Django's IntegrityError
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """A value in COPY's text format. Only the types a transaction's columns hold: anything
    else is an error rather than a guess."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, int | Decimal | datetime.date):  # datetimes are dates too
        return str(value)  # Decimal: exact digits; datetime: ISO 8601 with its offset
    raise TypeError(f"no COPY text for {type(value).__name__}")


def transactions_batch_create(
    *, owner: User, rows: Sequence[tuple[int, Transaction | None, dict]], dry_run: bool
) -> tuple[bool, list[RowResult]]:
    """All rows or none. `rows` holds (index, unsaved transaction or None, shape errors).

    Returns whether the rows were saved, and a result per row. Nothing is saved when any row is
    invalid, or on a dry run.
    """
    results: dict[int, RowResult] = {}
    candidates = []
    for index, tx, errors in rows:
        errors = errors or (validated(tx) if tx is not None else {})
        if errors or tx is None:
            results[index] = RowResult(index, INVALID, errors=errors)
        else:
            candidates.append((index, tx))
    with unit_of_work():  # the duplicate check and the insert together; `insert` marks the owner
        duplicates = mark_duplicates(owner, candidates)
        new = [(index, tx) for index, tx in candidates if index not in duplicates]
        for index in duplicates:
            results[index] = RowResult(index, DUPLICATE)
        save = not dry_run and not any(r.status == INVALID for r in results.values())
        ids = insert(owner, [tx for _, tx in new], batch_size=500) if save else [None] * len(new)
    for (index, _), pk in zip(new, ids, strict=True):
        results[index] = RowResult(index, CREATED, id=pk)
    return save, [results[index] for index, _, _ in rows]

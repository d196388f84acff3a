"""Many transactions written at once, for the batch endpoint and for imports: inserted in large
batches (with PostgreSQL's COPY, history records included), in one unit of work; and the
transfers a restored export brings back."""

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
from ledger import scope
from ledger.bulk import CREATED, DUPLICATE, INVALID, RowResult, mark_duplicates, validated
from ledger.models import Account, Transaction, Transfer
from ledger.services.transactions import conditional_update
from ledger.services.transfers import legs, transfer_create
from ledger.services.unit_of_work import unit_of_work

HISTORY_CHANGE_REASON = "bulk"


def insert(*, actor: User, transactions: Iterable[Transaction], batch_size: int) -> list[int]:
    """Insert in batches, with one history record each (by `actor`); returns the new ids in
    order. Each row names its account; its ledger is the account's, and `actor` is its author
    unless it names another. The caller has checked that `actor` may write those accounts.

    On PostgreSQL both tables are written with COPY, in one go: `bulk_create`'s per-value
    preparation and the history instances it builds dominated an import's time (the gain is in
    bench/README.md). Elsewhere, with
    django-simple-history's `bulk_create_with_history` in `batch_size` batches. The records are
    the same either way.
    """
    rows = list(transactions)
    for tx in rows:
        # The account's ledger, always: the row is read (and its cached answers ended) by it.
        tx.ledger_id = tx.account.ledger_id
        if tx.created_by_id is None:
            tx.created_by = actor
    with unit_of_work(*{tx.ledger_id for tx in rows}):
        if connection.vendor == "postgresql":
            _copy_with_history(actor, rows)
        else:
            bulk_create_with_history(
                rows,
                Transaction,
                batch_size=batch_size,
                default_user=actor,
                default_change_reason=HISTORY_CHANGE_REASON,
            )
    return [tx.pk for tx in rows]


def _copy_with_history(actor: User, rows: list[Transaction]) -> None:
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
            "history_user_id": actor.pk,
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
    *, actor: User, rows: Sequence[tuple[int, Transaction | None, dict]], dry_run: bool
) -> tuple[bool, list[RowResult]]:
    """All rows or none. `rows` holds (index, unsaved transaction or None, shape errors); each
    transaction names its account, which may differ from row to row.

    Returns whether the rows were saved, and a result per row. Nothing is saved when any row is
    invalid, or on a dry run. A row in a ledger `actor` may only view refuses the whole batch
    (PermissionDenied).
    """
    results: dict[int, RowResult] = {}
    candidates = []
    for index, tx, errors in rows:
        errors = errors or (validated(tx) if tx is not None else {})
        if errors or tx is None:
            results[index] = RowResult(index, INVALID, errors=errors)
        else:
            candidates.append((index, tx))
    ledger_ids = {tx.ledger_id for _, tx in candidates}
    scope.require_write(actor, *ledger_ids)
    # The duplicate check and the insert together; `insert` marks the ledgers it writes, so a dry
    # run ends no cached answer.
    with unit_of_work():
        duplicates = mark_duplicates(candidates)
        new = [(index, tx) for index, tx in candidates if index not in duplicates]
        for index, _ in candidates:
            if index in duplicates:
                results[index] = RowResult(index, DUPLICATE)
        save = not dry_run and not any(r.status == INVALID for r in results.values())
        ids = (
            insert(actor=actor, transactions=[tx for _, tx in new], batch_size=500)
            if save
            else [None] * len(new)
        )
    for (index, _), pk in zip(new, ids, strict=True):
        results[index] = RowResult(index, CREATED, id=pk)
    return save, [results[index] for index, _, _ in rows]


#: What a restored transfer's leg keeps of its exported row besides the transfer's own values.
LEG_FIELDS = ("status", "category", "external_id", "fingerprint")


def transfer_restore(
    *,
    actor: User,
    from_account: Account,
    to_account: Account,
    amount: Decimal,
    date: datetime.date,
    description: str,
    legs_values: tuple[dict[str, Any], dict[str, Any]],
) -> Transfer:
    """A transfer of a restored export: made as any transfer is (`transfer_create`, which checks
    the actor may write both accounts), then each leg (leaving, arriving) given the `LEG_FIELDS`
    of its exported row, with a history record of that change."""
    with unit_of_work(from_account.ledger_id, to_account.ledger_id):
        transfer = transfer_create(
            actor=actor,
            from_account=from_account,
            to_account=to_account,
            amount=amount,
            date=date,
            description=description,
        )
        for leg, values in zip(legs(transfer), legs_values, strict=True):
            changed = {
                field: values[field]
                for field in LEG_FIELDS
                if field in values and getattr(leg, field) != values[field]
            }
            if not changed:
                continue
            for field, value in changed.items():
                setattr(leg, field, value)
            leg.clean_for_owner()  # a category of the leg's own ledger, a known status
            conditional_update(leg, changed, None, updated_at=timezone.now())
            Transaction.history.bulk_history_create(  # type: ignore[attr-defined]
                [leg], update=True, default_user=actor, default_change_reason="restored"
            )
    return transfer

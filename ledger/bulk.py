"""Many transactions at once, for the batch endpoint and for imports: validated by the same model
rules as a single create, checked for duplicates in a few queries, inserted in large batches
(with PostgreSQL's COPY, history records included)."""

import datetime
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Model
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from ledger import cached_reads, scope
from ledger.models import Category, Transaction

CREATED, DUPLICATE, INVALID = "created", "duplicate", "invalid"


def content_fingerprint(*, date: Any, amount: Any, description: str, occurrence: int = 1) -> str:
    """Identifies a row without an external id: same day, amount and description, and which of
    the file's rows alike it is. Two coffees of the same price on the same day are two rows: the
    first is occurrence 1, the second occurrence 2, so a file imported twice matches its n-th
    coffee with the n-th stored one and adds nothing, while a first import keeps both."""
    content = f"{date}|{amount:.2f}|{description.strip()}"
    if occurrence > 1:  # occurrence 1 keeps the digest stored before occurrences were counted
        # NUL, which no stored description holds: no description can end like another's count.
        content = f"{content}\x00{occurrence}"
    return hashlib.sha256(content.encode()).hexdigest()


class Occurrences:
    """Counts the rows alike (same content fingerprint) seen so far in one file."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next(self, content: str) -> int:
        self._seen[content] = self._seen.get(content, 0) + 1
        return self._seen[content]


@dataclass
class RowResult:
    index: int
    status: str
    id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.id is not None:
            out["id"] = self.id
        if self.errors:
            out["errors"] = self.errors
        return out


class CategoryCache:
    """The owner's categories by case-folded name, created on first use."""

    def __init__(self, owner: User) -> None:
        self.owner = owner
        self._by_name = {c.name.casefold(): c for c in scope.visible(Category.objects.all(), owner)}

    def get(self, name: str | None, *, create: bool) -> Category | None:
        name = (name or "").strip()
        if not name:
            return None
        category = self._by_name.get(name.casefold())
        if category is None and create:
            category = (
                scope.visible(Category.objects.all(), self.owner)
                .annotate(lower=Lower("name"))
                .filter(lower=name.lower())
                .first()
            ) or Category.objects.create(owner=self.owner, name=name[:100])
            self._by_name[name.casefold()] = category
        return category


def validated(tx: Transaction) -> dict[str, list[str]]:
    """The model's own rules (field validators, the sign rule); empty when the row is valid."""
    try:
        # The owner and the category come from the caller, already the user's own: no queries.
        tx.clean_for_owner()
    except ValidationError as exc:
        return exc.message_dict
    return {}


def mark_duplicates(owner: User, rows: Sequence[tuple[int, Transaction]]) -> set[int]:
    """Indexes of rows whose external id or fingerprint is already stored, or repeats one
    earlier in `rows` (a fingerprint counts its occurrence, so rows alike differ in it). Two
    queries whatever the number of rows."""
    external_ids = {tx.external_id for _, tx in rows if tx.external_id}
    fingerprints = {tx.fingerprint for _, tx in rows if tx.fingerprint}
    seen_ids = (
        set(
            scope.visible(Transaction.objects.all(), owner)
            .filter(external_id__in=external_ids)
            .values_list("external_id", flat=True)
        )
        if external_ids
        else set()
    )
    seen_prints = (
        set(
            scope.visible(Transaction.objects.all(), owner)
            .filter(fingerprint__in=fingerprints)
            .values_list("fingerprint", flat=True)
        )
        if fingerprints
        else set()
    )
    duplicates = set()
    for index, tx in rows:
        if tx.external_id:
            if tx.external_id in seen_ids:
                duplicates.add(index)
            seen_ids.add(tx.external_id)
        elif tx.fingerprint:
            if tx.fingerprint in seen_prints:
                duplicates.add(index)
            seen_prints.add(tx.fingerprint)
    return duplicates


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
    with db_transaction.atomic():
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
        cached_reads.ledger_changed(owner.pk)  # neither sends post_save
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
    duplicates = mark_duplicates(owner, candidates)
    new = [(index, tx) for index, tx in candidates if index not in duplicates]
    for index in duplicates:
        results[index] = RowResult(index, DUPLICATE)
    save = not dry_run and not any(r.status == INVALID for r in results.values())
    ids = insert(owner, [tx for _, tx in new], batch_size=500) if save else [None] * len(new)
    for (index, _), pk in zip(new, ids, strict=True):
        results[index] = RowResult(index, CREATED, id=pk)
    return save, [results[index] for index, _, _ in rows]

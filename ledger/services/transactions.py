"""Writes of one transaction: create, update, delete, restore; and the admin's saves.

Updates and deletes take an optional `if_version`: the write happens only if the row is still at
that version (the client's If-Match), checked and written in one statement.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Model, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from ledger import scope
from ledger.exceptions import StaleVersion
from ledger.models import Category, Transaction
from ledger.services.unit_of_work import unit_of_work

TRANSACTION_FIELDS = ("type", "description", "amount", "date", "category")


def transaction_create(
    *,
    owner: User,
    type: str,
    description: str,
    amount: Decimal,
    date: datetime.date | None = None,
    category: Category | None = None,
) -> Transaction:
    # The date's default (today) is worked out only when none is given.
    dated = {} if date is None else {"date": date}
    tx = Transaction(
        owner=owner, type=type, description=description, amount=amount, category=category, **dated
    )
    tx.clean_for_owner()
    tx._history_user = owner  # type: ignore[attr-defined]
    with unit_of_work(owner.pk):
        tx.save()
    return tx


def transaction_update(
    *,
    transaction: Transaction,
    data: dict[str, Any],
    if_version: int | None = None,
    actor: User | None = None,
) -> Transaction:
    """Apply the given fields and re-apply the sign rule.

    A type change without a new amount keeps the amount's size: an expense of -50 turned into an
    income becomes +50. Only the fields given (and the amount, on a type change) are written.
    """
    if "type" in data and "amount" not in data:
        data = {**data, "amount": abs(transaction.amount)}
    fields = [field for field in TRANSACTION_FIELDS if field in data]
    for field in fields:
        setattr(transaction, field, data[field])
    transaction.clean_for_owner()
    # full_clean() may have normalised them (the sign, the trimmed description).
    values = {field: getattr(transaction, field) for field in fields}
    with unit_of_work(transaction.owner_id):
        conditional_update(transaction, values, if_version, updated_at=timezone.now())
        Transaction.history.bulk_history_create(
            [transaction], update=True, default_user=actor or transaction.owner
        )
    return transaction


def transaction_delete(
    *, transaction: Transaction, if_version: int | None = None, actor: User | None = None
) -> None:
    with unit_of_work(transaction.owner_id):
        locked = lock_at_version(transaction, if_version)
        locked._history_user = actor or transaction.owner  # type: ignore[attr-defined]
        locked.delete()


def _at_version(instance: Model, if_version: int | None) -> QuerySet:
    rows = type(instance)._default_manager.filter(pk=instance.pk)
    return rows if if_version is None else rows.filter(version=if_version)


def conditional_update(
    instance: Model, values: dict[str, Any], if_version: int | None, **extra: Any
) -> None:
    """UPDATE ... SET ..., version = version + 1 WHERE id = ? [AND version = ?]."""
    updated = _at_version(instance, if_version).update(**values, **extra, version=F("version") + 1)
    if not updated:
        _raise_missing_or_stale(instance)
    instance.refresh_from_db(fields=["version", *extra])


def lock_at_version(instance: Model, if_version: int | None) -> Any:
    """The row, locked for the rest of the transaction, if it is still at `if_version`."""
    locked = _at_version(instance, if_version).select_for_update().first()
    if locked is None:
        _raise_missing_or_stale(instance)
    return locked


def _raise_missing_or_stale(instance: Model) -> None:
    if type(instance)._default_manager.filter(pk=instance.pk).exists():
        raise StaleVersion()
    raise Http404("No such object.")


def transaction_restore(*, record: Any, actor: User | None = None) -> Transaction | None:
    """Bring back a deleted transaction from its deletion record, with its id.

    Returns None when it cannot be: it exists again already, or its owner is gone. A category
    deleted since is left out.
    """
    if record.history_type != "-" or Transaction.objects.filter(pk=record.id).exists():
        return None
    if not User.objects.filter(pk=record.owner_id).exists():
        return None
    tx = record.instance
    if (
        tx.category_id is not None
        and not scope.visible(Category.objects.filter(pk=tx.category_id), tx.owner_id).exists()
    ):
        tx.category = None
    tx.version = record.version + 1
    tx.full_clean(validate_unique=False)
    tx._history_user = actor  # type: ignore[attr-defined]
    tx._change_reason = "restored"  # type: ignore[attr-defined]
    with unit_of_work(tx.owner_id):
        tx.save(force_insert=True)
    return tx


def transaction_save(*, transaction: Transaction, actor: User) -> None:
    """Save a transaction as the admin's form changed it: any field, its owner too (then both
    owners' cached answers end)."""
    before = Transaction.objects.filter(pk=transaction.pk).values_list("owner_id", flat=True)
    owners = {transaction.owner_id, *before} if transaction.pk else {transaction.owner_id}
    transaction._history_user = actor  # type: ignore[attr-defined]
    with unit_of_work(*owners):
        transaction.save()


def transaction_delete_many(*, transactions: QuerySet[Transaction]) -> int:
    """Delete these transactions (the admin's bulk delete), as Django's admin does: one DELETE,
    a history record each (simple-history's middleware names who)."""
    with unit_of_work(*set(transactions.values_list("owner_id", flat=True))):
        deleted, _ = transactions.delete()
    return deleted


def ledger_clear(*, owner: User) -> None:
    """Delete all of the owner's transactions and categories (the demo's reset)."""
    with unit_of_work(owner.pk):
        scope.writable(Transaction.objects.all(), owner).delete()
        scope.writable(Category.objects.all(), owner).delete()

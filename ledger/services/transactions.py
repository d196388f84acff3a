"""Writes of one transaction: create, update, delete, restore; and the admin's saves.

Updates and deletes take an optional `if_version`: the write happens only if the row is still at
that version (the client's If-Match), checked and written in one statement.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from ledger import scope
from ledger.choices import TransactionStatus, TransactionType
from ledger.exceptions import Conflict, StaleVersion
from ledger.models import Account, Category, Schedule, Transaction, Transfer
from ledger.services.unit_of_work import unit_of_work

TRANSACTION_FIELDS = ("type", "description", "amount", "date", "category", "account", "status")
#: What a reconciled transaction keeps: it was checked against a statement with these.
RECONCILED_FIELDS = ("type", "amount", "date", "account")


def usable_account(*, actor: User, account: Account | None) -> Account:
    """The account a write goes into: the one named, if the actor may write its ledger and it is
    open; else the user's default account (their personal ledger's, which they own)."""
    if account is None:
        from ledger.services.households import default_account  # it writes with these

        return default_account(user=actor)
    scope.require_write(actor, account.ledger_id)
    if account.archived:
        raise ValidationError(
            {"account": "This account is archived: it takes no new transactions."}
        )
    return account


def transaction_create(
    *,
    actor: User,
    type: str,
    description: str,
    amount: Decimal,
    date: datetime.date | None = None,
    category: Category | None = None,
    account: Account | None = None,
    status: str = TransactionStatus.PENDING,
) -> Transaction:
    if type == TransactionType.TRANSFER:
        raise ValidationError({"type": "Record a transfer through transfers/: it has two legs."})
    account = usable_account(actor=actor, account=account)
    # The date's default (today) is worked out only when none is given.
    dated = {} if date is None else {"date": date}
    tx = Transaction(
        ledger_id=account.ledger_id,
        account=account,
        created_by=actor,
        type=type,
        description=description,
        amount=amount,
        category=category,
        status=status,
        **dated,
    )
    tx.clean_for_owner()
    tx._history_user = actor  # type: ignore[attr-defined]
    with unit_of_work(account.ledger_id):
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
    income becomes +50. Only the fields given (and the amount, on a type change) are written. A
    transfer's leg is changed with its other leg (`ledger.services.transfers`).
    """
    if actor is not None:
        scope.require_write(actor, transaction.ledger_id)
    if transaction.transfer_id is not None:
        from ledger.services.transfers import transfer_leg_update  # it updates with these

        return transfer_leg_update(leg=transaction, data=data, if_version=if_version, actor=actor)
    if data.get("type") == TransactionType.TRANSFER:
        raise ValidationError({"type": "Record a transfer through transfers/: it has two legs."})
    if actor is not None and "account" in data and data["account"].pk != transaction.account_id:
        data = {**data, "account": usable_account(actor=actor, account=data["account"])}
    if "type" in data and "amount" not in data:
        data = {**data, "amount": abs(transaction.amount)}
    ledger_before = transaction.ledger_id
    fields = [field for field in TRANSACTION_FIELDS if field in data]
    for field in fields:
        setattr(transaction, field, data[field])
    transaction.clean_for_owner()
    # full_clean() may have normalised them (the sign, the trimmed description, the ledger).
    values = {field: getattr(transaction, field) for field in fields}
    if "account" in fields:
        values["ledger_id"] = transaction.ledger_id
    with unit_of_work(ledger_before, transaction.ledger_id):
        # Checked on the row locked for the write: a reconciliation cannot slip in between.
        current = _locked_values(transaction)
        if current is not None and current["status"] == TransactionStatus.RECONCILED:
            refuse_reconciled_change(current, _values(transaction, RECONCILED_FIELDS))
        conditional_update(transaction, values, if_version, updated_at=timezone.now())
        Transaction.history.bulk_history_create(
            [transaction], update=True, default_user=actor or transaction.created_by
        )
    return transaction


def _locked_values(tx: Transaction) -> dict[str, Any] | None:
    """The row's stored values of RECONCILED_FIELDS and its status, locked for the transaction;
    None when it is gone."""
    names = [f"{field}_id" if field == "account" else field for field in RECONCILED_FIELDS]
    row = (
        Transaction.objects.select_for_update()
        .filter(pk=tx.pk)
        .values_list(*names, "status")
        .first()
    )
    return None if row is None else dict(zip([*RECONCILED_FIELDS, "status"], row, strict=True))


def _values(tx: Transaction, fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields' values (a foreign key's id), and the status."""
    names = [f"{field}_id" if field == "account" else field for field in fields]
    return {**{f: getattr(tx, n) for f, n in zip(fields, names, strict=True)}, "status": tx.status}


def refuse_reconciled_change(before: dict[str, Any], after: dict[str, Any]) -> None:
    """A reconciled transaction was checked against a statement: its amount, date and account
    stay (409). Set its status back to cleared first to change them."""
    changed = sorted(f for f in RECONCILED_FIELDS if f in before and before[f] != after[f])
    if changed:
        raise Conflict(
            f"This transaction is reconciled: its {', '.join(changed)} cannot change. "
            "Set its status to cleared first."
        )


def transaction_delete(
    *,
    transaction: Transaction,
    if_version: int | None = None,
    actor: User | None = None,
    history_user: User | None = None,
) -> None:
    """Delete a transaction (a transfer's leg: the whole transfer). A reconciled one stays.

    `actor` must be allowed to write its ledger; without one (staff, in the admin), nothing is
    checked and `history_user` is recorded as who deleted it."""
    history_user = history_user or actor
    if actor is not None:
        scope.require_write(actor, transaction.ledger_id)
    if transaction.transfer_id is not None:
        from ledger.services.transfers import transfer_delete  # it deletes with these

        with unit_of_work(transaction.ledger_id):
            lock_at_version(transaction, if_version)  # the leg's If-Match
            transfer_delete(transfer=transaction.transfer, actor=actor, history_user=history_user)
        return
    with unit_of_work(transaction.ledger_id):
        locked = lock_at_version(transaction, if_version)
        if locked.status == TransactionStatus.RECONCILED:
            raise Conflict("This transaction is reconciled: it cannot be deleted.")
        locked._history_user = history_user or transaction.created_by  # type: ignore[attr-defined]
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

    Returns None when it cannot be: it exists again already, its account is gone, or it was a
    transfer's leg. A category or schedule deleted since is left out.
    """
    if record.history_type != "-" or Transaction.objects.filter(pk=record.id).exists():
        return None
    if record.transfer_id is not None or not Account.objects.filter(pk=record.account_id).exists():
        return None
    tx = record.instance
    tx.ledger_id = Account.objects.get(pk=record.account_id).ledger_id
    if (
        tx.category_id is not None
        and not Category.objects.filter(pk=tx.category_id, ledger_id=tx.ledger_id).exists()
    ):
        tx.category = None
    if tx.schedule_id is not None and not Schedule.objects.filter(pk=tx.schedule_id).exists():
        tx.schedule, tx.occurrence_date = None, None  # its schedule was deleted since
    tx.version = record.version + 1
    tx.full_clean(validate_unique=False)
    tx._history_user = actor  # type: ignore[attr-defined]
    tx._change_reason = "restored"  # type: ignore[attr-defined]
    with unit_of_work(tx.ledger_id):
        tx.save(force_insert=True)
    return tx


def transaction_save(*, transaction: Transaction, actor: User) -> None:
    """Save a transaction as the admin's form changed it: any field, its account too (then the
    cached answers of both ledgers' members end)."""
    before = Transaction.objects.filter(pk=transaction.pk).values_list("ledger_id", flat=True)
    transaction.ledger_id = transaction.account.ledger_id
    transaction._history_user = actor  # type: ignore[attr-defined]
    with unit_of_work(transaction.ledger_id, *before):
        transaction.save()


def transaction_delete_many(*, transactions: QuerySet[Transaction]) -> int:
    """Delete these transactions (the admin's bulk delete), as Django's admin does: one DELETE,
    a history record each (simple-history's middleware names who). A transfer's leg takes the
    other leg and the transfer with it."""
    transfers = list(transactions.exclude(transfer=None).values_list("transfer_id", flat=True))
    if transfers:
        transactions = Transaction.objects.filter(
            Q(pk__in=transactions.values("pk")) | Q(transfer__in=transfers)
        )
    with unit_of_work(*set(transactions.values_list("ledger_id", flat=True))):
        deleted, _ = transactions.delete()
        Transfer.objects.filter(pk__in=transfers).delete()
    return deleted


def ledger_clear(*, ledger_id: int) -> None:
    """Delete all of a ledger's transactions, schedules, categories and budgets (the demo's
    reset); a transfer with a leg in another ledger goes whole."""
    from ledger.services.households import transfers_of_ledger_delete  # it deletes with these

    with unit_of_work(ledger_id):
        transfers_of_ledger_delete(ledger_id=ledger_id)
        Schedule.objects.filter(ledger_id=ledger_id).delete()
        Transaction.objects.filter(ledger_id=ledger_id).delete()
        Category.objects.filter(ledger_id=ledger_id).delete()  # and their budgets

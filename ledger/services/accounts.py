"""Writes of accounts, and their reconciliation against a bank statement."""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from accounts.models import User
from ledger import scope
from ledger.choices import CLEARED_STATUSES, TransactionStatus
from ledger.exceptions import Conflict
from ledger.models import Account, Ledger, Transaction
from ledger.services.transactions import conditional_update, lock_at_version
from ledger.services.unit_of_work import unit_of_work

ACCOUNT_FIELDS = ("name", "kind", "opening_balance", "opening_date", "archived")


def account_create(*, actor: User, ledger: Ledger | None = None, **fields: Any) -> Account:
    """An account of `ledger` (the actor's personal ledger if None)."""
    if ledger is None:
        from ledger.services.households import personal_ledger  # it writes with these

        ledger = personal_ledger(user=actor)
    scope.require_write(actor, ledger.pk)
    account = Account(ledger=ledger, **{k: v for k, v in fields.items() if k in ACCOUNT_FIELDS})
    account.full_clean()
    with unit_of_work(ledger.pk):
        account.save()
    return account


def account_update(
    *, account: Account, actor: User, data: dict[str, Any], if_version: int | None = None
) -> Account:
    scope.require_write(actor, account.ledger_id)
    fields = [field for field in ACCOUNT_FIELDS if field in data]
    for field in fields:
        setattr(account, field, data[field])
    account.full_clean()
    with unit_of_work(account.ledger_id):
        conditional_update(
            account, {field: getattr(account, field) for field in fields}, if_version
        )
    return account


def account_save(*, account: Account) -> None:
    """Save an account as the admin's form changed it (its ledger is fixed once made)."""
    with unit_of_work(account.ledger_id):
        account.save()


def account_delete(*, account: Account, actor: User | None, if_version: int | None = None) -> None:
    """Only an account without transactions goes; one with them is archived instead (409).
    `actor` None is staff, in the admin."""
    if actor is not None:
        scope.require_write(actor, account.ledger_id)
    with unit_of_work(account.ledger_id):
        locked = lock_at_version(account, if_version)
        if locked.transactions.exists():
            raise Conflict("This account has transactions: archive it instead of deleting it.")
        locked.delete()


def account_reconcile(
    *,
    account: Account,
    actor: User,
    statement_date: datetime.date,
    statement_balance: Decimal,
) -> int:
    """Mark the account's cleared transactions up to the statement's date reconciled, when its
    opening balance plus its reconciled and cleared transactions up to that date come to the
    statement's balance. Otherwise nothing changes and the answer is a 409 with the difference
    (the statement's balance less the account's). Returns how many were marked."""
    scope.require_write(actor, account.ledger_id)
    with unit_of_work(account.ledger_id):
        locked = lock_at_version(account, None)  # one reconciliation of an account at a time
        # The rows counted are locked, and only those are marked: a row written meanwhile is
        # neither counted nor marked.
        counted_rows = list(
            locked.transactions.filter(date__lte=statement_date, status__in=CLEARED_STATUSES)
            .select_for_update()
            .values_list("pk", "status", "amount")
        )
        ids = [pk for pk, status, _ in counted_rows if status == TransactionStatus.CLEARED]
        total = sum((amount for _, _, amount in counted_rows), Decimal("0"))
        cleared = locked.opening_balance + total
        difference = statement_balance - cleared
        if difference:
            raise Conflict(
                "The account's cleared balance on that date is not the statement's balance.",
                cleared_balance=f"{cleared:.2f}",
                statement_balance=f"{statement_balance:.2f}",
                difference=f"{difference:.2f}",
            )
        Transaction.objects.filter(pk__in=ids).update(
            status=TransactionStatus.RECONCILED, version=F("version") + 1, updated_at=timezone.now()
        )
        # A history record each, as any change of a transaction has.
        marked = list(Transaction.objects.filter(pk__in=ids))
        Transaction.history.bulk_history_create(  # type: ignore[attr-defined]
            marked, update=True, default_user=actor, default_change_reason="reconciled"
        )
        return len(ids)

"""Writes of transfers: money moved between two accounts, as two legs of type TRANSFER (negative
on the account it leaves, positive on the one it reaches) written together, in one unit of work.
The accounts may be in different ledgers when the actor may write both."""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from ledger import scope
from ledger.choices import TransactionStatus, TransactionType
from ledger.exceptions import Conflict
from ledger.models import Account, Transaction, Transfer
from ledger.services.transactions import (
    conditional_update,
    lock_at_version,
    refuse_reconciled_change,
    usable_account,
)
from ledger.services.unit_of_work import require, unit_of_work

DEFAULT_DESCRIPTION = "Transfer"


def legs(transfer: Transfer) -> tuple[Transaction, Transaction]:
    """The transfer's legs: the one leaving its account (negative), the one arriving."""
    rows = sorted(transfer.legs.all(), key=lambda leg: leg.amount)  # prefetched in lists
    if len(rows) != 2:
        raise Conflict("This transfer has lost a leg.")
    return rows[0], rows[1]


def _check(amount: Decimal, from_account: Account, to_account: Account) -> None:
    if amount is None or amount <= 0:
        raise ValidationError({"amount": "A transfer's amount must be positive."})
    if from_account.pk == to_account.pk:
        raise ValidationError({"to_account": "A transfer needs two different accounts."})


def transfer_create(
    *,
    actor: User,
    from_account: Account,
    to_account: Account,
    amount: Decimal,
    date: datetime.date | None = None,
    description: str = DEFAULT_DESCRIPTION,
) -> Transfer:
    from_account = usable_account(actor=actor, account=from_account)
    to_account = usable_account(actor=actor, account=to_account)
    _check(amount, from_account, to_account)
    dated = {} if date is None else {"date": date}
    made = []
    for account, signed in ((from_account, -amount), (to_account, amount)):
        leg = Transaction(
            ledger_id=account.ledger_id,
            account=account,
            created_by=actor,
            type=TransactionType.TRANSFER,
            description=description,
            amount=signed,
            **dated,
        )
        leg.clean_for_owner()
        leg._history_user = actor  # type: ignore[attr-defined]
        made.append(leg)
    with unit_of_work(from_account.ledger_id, to_account.ledger_id):
        transfer = Transfer.objects.create(created_by=actor)
        for leg in made:
            leg.transfer = transfer
            leg.save()
    return transfer


def transfer_update(
    *,
    transfer: Transfer,
    actor: User,
    data: dict[str, Any],
    if_version: int | None = None,
) -> Transfer:
    """Change a transfer: its amount, date and description on both legs, and either account.
    A reconciled leg keeps its amount, date and account (409)."""
    out, into = legs(transfer)
    scope.require_write(actor, out.ledger_id, into.ledger_id)
    accounts = {"from_account": out.account, "to_account": into.account}
    for name in accounts:
        if name in data and data[name].pk != accounts[name].pk:
            accounts[name] = usable_account(actor=actor, account=data[name])
    amount = data.get("amount", into.amount)
    _check(amount, accounts["from_account"], accounts["to_account"])
    ledgers = {out.ledger_id, into.ledger_id}
    with unit_of_work(*ledgers):
        conditional_update(transfer, {}, if_version)
        for leg, account, signed in (
            (out, accounts["from_account"], -amount),
            (into, accounts["to_account"], amount),
        ):
            values = {"account": account, "amount": signed, "date": data.get("date", leg.date)}
            if "description" in data:
                values["description"] = data["description"]
            _leg_write(leg, values, actor)
    transfer.refresh_from_db()
    return transfer


def _leg_write(leg: Transaction, values: dict[str, Any], actor: User) -> None:
    before = {"amount": leg.amount, "date": leg.date, "account": leg.account_id}
    if leg.category_id is not None and values["account"].ledger_id != leg.ledger_id:
        values = {**values, "category": None}  # a category is its ledger's: it stays behind
    for field, value in values.items():
        setattr(leg, field, value)
    leg.clean_for_owner()
    if leg.status == TransactionStatus.RECONCILED:
        after = {"amount": leg.amount, "date": leg.date, "account": leg.account_id}
        refuse_reconciled_change(before, after)
    written = {field: getattr(leg, field) for field in values}
    written["ledger_id"] = leg.ledger_id
    require().changed(leg.ledger_id)  # an account in another ledger moves the leg there
    conditional_update(leg, written, None, updated_at=timezone.now())
    Transaction.history.bulk_history_create([leg], update=True, default_user=actor)


def transfer_leg_update(
    *, leg: Transaction, data: dict[str, Any], if_version: int | None, actor: User | None
) -> Transaction:
    """A change of one leg through `transactions/`: its amount, date and description change both
    legs; its account, category and status are its own. Called by `transaction_update`, which
    has checked that the actor may write the leg's ledger."""
    if "type" in data and data["type"] != TransactionType.TRANSFER:
        raise ValidationError({"type": "A transfer's leg stays a transfer: delete the transfer."})
    transfer = leg.transfer
    if actor is None or transfer is None:
        raise ValidationError({"transfer": "Change a transfer through transfers/."})
    mine = "from_account" if leg.amount < 0 else "to_account"
    whole: dict[str, Any] = {k: data[k] for k in ("date", "description") if k in data}
    if "amount" in data:
        whole["amount"] = abs(data["amount"])
    if "account" in data:
        whole[mine] = data["account"]
    own: dict[str, Any] = {k: data[k] for k in ("category", "status") if k in data}
    with unit_of_work(leg.ledger_id):
        if if_version is not None:
            lock_at_version(leg, if_version)
        if whole:
            transfer_update(transfer=transfer, actor=actor, data=whole)
        leg.refresh_from_db()
        if own:
            for field, value in own.items():
                setattr(leg, field, value)
            leg.clean_for_owner()
            _leg_write_own(leg, own, actor)
    return leg


def _leg_write_own(leg: Transaction, own: dict[str, Any], actor: User) -> None:
    conditional_update(leg, own, None, updated_at=timezone.now())
    Transaction.history.bulk_history_create([leg], update=True, default_user=actor)


def transfer_delete(
    *,
    transfer: Transfer | None,
    actor: User | None,
    if_version: int | None = None,
    history_user: User | None = None,
) -> None:
    """Delete both legs. A reconciled leg stays, and so does its transfer (409)."""
    if transfer is None:
        return
    out, into = legs(transfer)
    if actor is not None:
        scope.require_write(actor, out.ledger_id, into.ledger_id)
    with unit_of_work(out.ledger_id, into.ledger_id):
        lock_at_version(transfer, if_version)
        statuses = Transaction.objects.select_for_update().filter(transfer=transfer)
        if TransactionStatus.RECONCILED in statuses.values_list("status", flat=True):
            raise Conflict("A leg of this transfer is reconciled: it cannot be deleted.")
        for leg in (out, into):
            leg._history_user = history_user or actor  # type: ignore[attr-defined]
            leg.delete()
        Transfer.objects.filter(pk=transfer.pk).delete()

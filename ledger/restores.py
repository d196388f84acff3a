"""Restoring a Cashman JSON export: what its header says besides the rows (ledgers, accounts,
transfers, each ledger's categories), and where an import job puts each of them.

An exported account goes, in this order:

1. to itself, when the export was made on this server (its ids name the same rows here), the
   account still exists and the importing user may write its ledger (a restore after a loss, or
   by another member);
2. else to the account of the same name (whatever the case) in the ledger the exported ledger
   goes to, made there with the export's kind, opening balance and date when there is none.

An exported ledger goes to itself on the terms of 1.; else a personal ledger goes to the ledger
of the upload's account (by default the user's personal ledger), and a shared one to a shared
ledger of the same name the user may write, made (with the user as its owner) when there is none.
So a restore into another user, or onto another server, brings back the ledgers, their accounts
and their balances, and a second restore of it finds them and adds nothing.

A row naming no account the export lists goes to the upload's account. A transfer is made again
as a transfer (`ledger.services.bulk.transfer_restore`) once both of its leg rows have been read
(or, for a leg alone in the file, at its end); it is never two plain rows.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from ledger import scope, services
from ledger.export_format import (
    ExportedAccount,
    ExportedLedger,
    ExportedTransfer,
    ExportHeader,
    export_fingerprint,
)
from ledger.models import Account, ImportJob, Ledger, Transaction
from ledger.services.bulk import transfer_restore  # not among the package's names (yet)


class Leg(NamedTuple):
    """A leg row of a transfer: its row number, whether this attempt stores it (rows an earlier
    attempt committed are read again but not stored again), and its own values."""

    number: int
    fresh: bool
    values: dict[str, Any]


@dataclass
class TransferItem:
    """A transfer to make again, with the leg rows read of it: `legs[True]` leaves its account,
    `legs[False]` arrives."""

    exported: ExportedTransfer
    from_account: Account
    to_account: Account
    legs: dict[bool, Leg]

    @property
    def numbers(self) -> list[int]:
        return [leg.number for leg in self.legs.values()]

    def leg_values(self, leaving: bool, source: str | None) -> dict[str, Any]:
        """The leg's values: its row's, or for a leg whose row is not in the file, its
        fingerprint alone (so that a restore made twice still finds it)."""
        if leaving in self.legs:
            return self.legs[leaving].values
        exported = self.exported
        row_id = exported.from_transaction if leaving else exported.to_transaction
        return {"fingerprint": export_fingerprint(source, row_id)}


class Destination:
    """Where one job's rows go: the upload's account for a CSV's rows; for an export's, the
    accounts the module's rules give. Holds each ledger's categories by name, and the leg rows
    read until their transfer can be made."""

    def __init__(self, job: ImportJob) -> None:
        self.job, self.owner, self.account = job, job.owner, job.account
        self.header = ExportHeader()
        self.local = False
        self._caches: dict[int, services.CategoryCache] = {}
        self._ledgers: dict[int | None, Ledger] = {}
        self._accounts: dict[int, Account] = {}
        self._to_archive: list[Account] = []
        self._pending: dict[int, tuple[bool, Leg]] = {}

    def categories(self, ledger_id: int) -> services.CategoryCache:
        if ledger_id not in self._caches:
            self._caches[ledger_id] = services.CategoryCache(ledger_id)
        return self._caches[ledger_id]

    def start(self, header: ExportHeader, *, local: bool) -> None:
        """Take an export's header: its accounts found or made here, its categories made."""
        self.header, self.local = header, local
        for exported in header.accounts.values():
            self._accounts[exported.id] = self._account_here(exported)
        by_ledger = [ledger for ledger in header.ledgers.values() if ledger.categories is not None]
        if by_ledger:
            for exported_ledger in by_ledger:
                cache = self.categories(self._ledger_here(exported_ledger.id).pk)
                for name in exported_ledger.categories or ():
                    cache.get(name, create=True)
        else:  # an export made before ledgers: its categories go where its rows do
            for name in header.categories:
                self.categories(self.account.ledger_id).get(name, create=True)

    def account_for(self, exported_id: Any) -> Account:
        """Where a row naming this exported account goes."""
        return self._accounts.get(exported_id, self.account)

    def _ledger_here(self, exported_id: int | None) -> Ledger:
        if exported_id not in self._ledgers:
            found = None
            if self.local and exported_id is not None:
                found = Ledger.objects.filter(pk=exported_id).first()
                if found is not None and not scope.may_write(self.owner, found.pk):
                    found = None
            exported = None if exported_id is None else self.header.ledgers.get(exported_id)
            if found is None and exported is not None and not exported.personal:
                found = self._shared_ledger(exported)
            self._ledgers[exported_id] = found or self.account.ledger
        return self._ledgers[exported_id]

    def _shared_ledger(self, exported: ExportedLedger) -> Ledger:
        """A shared ledger of that name the owner may write, or a new one they own."""
        namesakes = Ledger.objects.filter(name__iexact=exported.name, personal_for__isnull=True)
        found = scope.writable(namesakes, self.owner).order_by("id").first()
        if found is not None:
            return found
        made = services.ledger_create(user=self.owner, name=exported.name)
        # The user's roles are cached by their generation, which the new membership raised.
        self.owner.refresh_from_db(fields=["ledger_generation"])
        scope.forget(self.owner)
        # A new ledger comes with an account: kept when the export has it, else left out.
        names = {
            a.name.casefold() for a in self.header.accounts.values() if a.ledger == exported.id
        }
        for first in made.accounts.all():
            if first.name.casefold() not in names:
                services.account_delete(account=first, actor=self.owner)
        return made

    def _account_here(self, exported: ExportedAccount) -> Account:
        if self.local:
            found = Account.objects.filter(pk=exported.id).first()
            if found is not None and scope.may_write(self.owner, found.ledger_id):
                return found
        ledger = self._ledger_here(exported.ledger)
        namesakes = Account.objects.filter(ledger=ledger, name__iexact=exported.name.strip())
        found = namesakes.first()
        if found is None:
            try:
                found = services.account_create(
                    actor=self.owner,
                    ledger=ledger,
                    name=exported.name,
                    kind=exported.kind,
                    opening_balance=exported.opening_balance,
                    opening_date=exported.opening_date,
                )
            except (ValidationError, IntegrityError):  # made meanwhile, by a concurrent import
                found = namesakes.first()
                if found is None:
                    raise
        # An archived account takes no new transfer: one this job made is archived once its
        # rows are in (after an interruption, it is known by being younger than the job).
        if exported.archived and not found.archived and found.created_at >= self.job.created_at:
            self._to_archive.append(found)
        return found

    def leg(
        self, number: int, values: dict[str, Any], *, fresh: bool, own: dict[str, Any]
    ) -> tuple[TransferItem | None, dict[str, list[str]]]:
        """Read a transfer's leg row (`own`: its status, category name, external id). Returns
        the transfer once both of its legs are read, None until then, or the row's errors."""
        transfer_id = values.get("transfer")
        exported = (
            self.header.transfers.get(transfer_id)
            if isinstance(transfer_id, int) and not isinstance(transfer_id, bool)
            else None
        )
        if exported is None:
            return None, {"transfer": ["Its transfer is not among the export's transfers."]}
        row_id = values.get("id")
        if row_id not in (exported.from_transaction, exported.to_transaction):
            return None, {"transfer": ["This row is not a leg of its transfer."]}
        leaving = row_id == exported.from_transaction
        account = self.account_for(exported.from_account if leaving else exported.to_account)
        leg_values = {
            "status": own["status"],
            "category": self.categories(account.ledger_id).get(own["category"], create=True),
            "external_id": own["external_id"],
            "fingerprint": export_fingerprint(self.header.source, row_id),
        }
        leg = Leg(number, fresh, leg_values)
        waiting = self._pending.get(exported.id)
        if waiting is None:
            self._pending[exported.id] = (leaving, leg)
            return None, {}
        if waiting[0] == leaving:
            return None, {"transfer": ["Its transfer has another row for this leg."]}
        del self._pending[exported.id]
        if not (fresh or waiting[1].fresh):
            return None, {}  # both rows committed by an earlier attempt, with their transfer
        return self._item(exported, {leaving: leg, waiting[0]: waiting[1]}), {}

    def unpaired(self) -> list[TransferItem]:
        """The transfers of which the file holds one leg row: made at its end."""
        items = [
            self._item(self.header.transfers[transfer_id], {leaving: leg})
            for transfer_id, (leaving, leg) in self._pending.items()
        ]
        self._pending.clear()
        return items

    def _item(self, exported: ExportedTransfer, legs: dict[bool, Leg]) -> TransferItem:
        return TransferItem(
            exported,
            self.account_for(exported.from_account),
            self.account_for(exported.to_account),
            legs,
        )

    def probes(self, items: list[TransferItem]) -> list[tuple[Any, Transaction]]:
        """Each leg as an unsaved row, keyed (transfer id, leaving), for the duplicate check."""
        return [
            (
                (item.exported.id, leaving),
                Transaction(
                    account=account,
                    external_id=item.leg_values(leaving, self.header.source).get("external_id"),
                    fingerprint=item.leg_values(leaving, self.header.source)["fingerprint"],
                ),
            )
            for item in items
            for leaving, account in ((True, item.from_account), (False, item.to_account))
        ]

    def make(self, item: TransferItem) -> dict[str, list[str]]:
        """Make the transfer again; its errors when it cannot be."""
        if item.from_account.pk == item.to_account.pk:
            return {
                "transfer": [
                    f"Both of its accounts are {item.from_account.name} here: a transfer needs two."
                ]
            }
        exported = item.exported
        try:
            transfer_restore(
                actor=self.owner,
                from_account=item.from_account,
                to_account=item.to_account,
                amount=exported.amount,
                date=exported.date,
                description=exported.description,
                legs_values=(
                    item.leg_values(True, self.header.source),
                    item.leg_values(False, self.header.source),
                ),
            )
        except ValidationError as exc:
            return exc.message_dict if hasattr(exc, "error_dict") else {"transfer": exc.messages}
        except PermissionDenied as exc:
            return {"transfer": [str(exc)]}
        return {}

    def finish(self) -> None:
        """Archive the accounts this job made that the export has archived."""
        for account in self._to_archive:
            services.account_update(account=account, actor=self.owner, data={"archived": True})
        self._to_archive.clear()

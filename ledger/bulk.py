"""Many transactions at once, for the batch endpoint and for imports: validated by the same model
rules as a single create and checked for duplicates in a few queries. They are written by
`ledger.services.bulk`."""

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from ledger.models import Transaction

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


def validated(tx: Transaction) -> dict[str, list[str]]:
    """The model's own rules (field validators, the sign rule, the category in the account's
    ledger); empty when the row is valid."""
    try:
        # The account and the category come from the caller, already resolved: no queries.
        tx.clean_for_owner()
    except ValidationError as exc:
        return exc.message_dict
    return {}


def mark_duplicates(rows: Sequence[tuple[Hashable, Transaction]]) -> set[Hashable]:
    """Keys of rows whose external id or fingerprint is already stored in the row's account, or
    repeats one earlier in `rows` for the same account (a fingerprint counts its occurrence, so
    rows alike differ in it). Both are unique per account, not per ledger or user: the same
    bank line imported into two accounts is two rows. Two queries whatever the number of rows."""
    accounts = {tx.account_id for _, tx in rows}
    external_ids = {tx.external_id for _, tx in rows if tx.external_id}
    fingerprints = {tx.fingerprint for _, tx in rows if tx.fingerprint}
    stored = Transaction.objects.filter(account_id__in=accounts)
    seen_ids = (
        set(stored.filter(external_id__in=external_ids).values_list("account_id", "external_id"))
        if external_ids
        else set()
    )
    seen_prints = (
        set(stored.filter(fingerprint__in=fingerprints).values_list("account_id", "fingerprint"))
        if fingerprints
        else set()
    )
    duplicates = set()
    for key, tx in rows:
        if tx.external_id:
            seen, value = seen_ids, (tx.account_id, tx.external_id)
        elif tx.fingerprint:
            seen, value = seen_prints, (tx.account_id, tx.fingerprint)
        else:
            continue
        if value in seen:
            duplicates.add(key)
        seen.add(value)
    return duplicates

"""The Cashman JSON export's format: its header (which server and user it comes from, the
ledgers with their categories, the accounts, the transfers), read and checked before its rows,
and the keys a restored row is known by. `ledger.exports` writes it; `ledger.imports` reads it and
`ledger.restores` puts what it names in place."""

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.utils.crypto import salted_hmac

from ledger.choices import AccountKind
from ledger.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS

EXPORT_FORMAT = "cashman-export"
MONEY_LIMIT = Decimal(10) ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES)


class ExportError(ValueError):
    """The export's header cannot be read; the message says why, for the client."""


def unstorable(text: str) -> bool:
    """NUL, which no PostgreSQL text holds, or a lone surrogate, which is not UTF-8."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def export_server() -> str:
    """Names this server in its exports (keyed with its SECRET_KEY, which it does not reveal):
    an export carrying it was made here, so its ids name rows here."""
    return salted_hmac("cashman.export-server", "server", algorithm="sha256").hexdigest()[:32]


def export_fingerprint(source: str | None, row_id: Any) -> str:
    """A restored row's fingerprint: the export's source and the row's id there. Exports made
    before `source` existed are keyed on the id alone."""
    key = f"{EXPORT_FORMAT}|{source}|{row_id}" if source else f"{EXPORT_FORMAT}|{row_id}"
    return hashlib.sha256(key.encode()).hexdigest()


class ExportedLedger(NamedTuple):
    id: int
    name: str
    personal: bool
    categories: list[str] | None


class ExportedAccount(NamedTuple):
    id: int
    ledger: int | None
    name: str
    kind: str
    opening_balance: Decimal
    opening_date: datetime.date
    archived: bool


class ExportedTransfer(NamedTuple):
    id: int
    from_account: int
    to_account: int
    amount: Decimal
    date: datetime.date
    description: str
    from_transaction: int
    to_transaction: int


@dataclass
class ExportHeader:
    source: str | None = None
    server: str | None = None
    categories: list[str] = field(default_factory=list)
    ledgers: dict[int, ExportedLedger] = field(default_factory=dict)
    accounts: dict[int, ExportedAccount] = field(default_factory=dict)
    transfers: dict[int, ExportedTransfer] = field(default_factory=dict)


def parse_header(header: dict[str, Any]) -> ExportHeader:
    """The header's keys, checked (ExportError): an export that names an account it does not
    list, or holds a value Cashman cannot store, is not one to restore."""
    parsed = ExportHeader(
        source=_short_text(header, "source"),
        server=_short_text(header, "server"),
        categories=category_names(header.get("categories")),
        ledgers=_objects(header, "ledgers", _ledger),
        accounts=_objects(header, "accounts", _account),
        transfers=_objects(header, "transfers", _transfer),
    )
    for transfer in parsed.transfers.values():
        if not {transfer.from_account, transfer.to_account} <= parsed.accounts.keys():
            raise ExportError(f"The export's transfer {transfer.id} names an account it omits.")
    return parsed


def category_names(names: Any) -> list[str]:
    if names is None:
        return []
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ExportError("The export's categories must be a list of names.")
    for name in names:
        if unstorable(name):
            raise ExportError(f"The category name {name!r} holds a character Cashman cannot store.")
    return names


def _short_text(header: dict[str, Any], key: str) -> str | None:
    value = header.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 64 or unstorable(value):
        raise ExportError(f"The export's {key} must be a short text.")
    return value


class _Bad(ValueError):
    pass


def _objects(header: dict[str, Any], key: str, read: Callable[[dict], Any]) -> dict[int, Any]:
    values = header.get(key)
    if values is None:
        return {}
    if not isinstance(values, list) or not all(isinstance(value, dict) for value in values):
        raise ExportError(f"The export's {key} must be a list of objects.")
    try:
        return {item.id: item for item in map(read, values)}
    except _Bad as exc:
        raise ExportError(f"The export's {key} are not readable: {exc}.") from exc


def _id(obj: dict, name: str) -> int:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{name} must be an id")
    return value


def _text(obj: dict, name: str, limit: int) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit or unstorable(value):
        raise _Bad(f"{name} must be a text of 1 to {limit} characters")
    return value


def _money(obj: dict, name: str) -> Decimal:
    try:
        value = Decimal(str(obj.get(name)))
        if not value.is_finite() or abs(value) >= MONEY_LIMIT:
            raise InvalidOperation
    except InvalidOperation:
        raise _Bad(f"{name} must be an amount") from None
    if value != value.quantize(Decimal("0.01")):
        raise _Bad(f"{name} has more than two decimal places")
    return value


def _day(obj: dict, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(obj.get(name)))
    except ValueError:
        raise _Bad(f"{name} must be a date, YYYY-MM-DD") from None


def _ledger(obj: dict) -> ExportedLedger:
    categories = obj.get("categories")
    try:
        names = None if categories is None else category_names(categories)
    except ExportError as exc:
        raise _Bad(f"ledger {obj.get('id')}'s categories must be a list of names") from exc
    personal = obj.get("personal", False)
    if not isinstance(personal, bool):
        raise _Bad("personal must be true or false")
    return ExportedLedger(_id(obj, "id"), _text(obj, "name", 100), personal, names)


def _account(obj: dict) -> ExportedAccount:
    kind = obj.get("kind", AccountKind.CHECKING)
    if kind not in AccountKind.values:
        raise _Bad(f"kind must be one of {', '.join(AccountKind.values)}")
    archived = obj.get("archived", False)
    if not isinstance(archived, bool):
        raise _Bad("archived must be true or false")
    return ExportedAccount(
        id=_id(obj, "id"),
        ledger=None if obj.get("ledger") is None else _id(obj, "ledger"),
        name=_text(obj, "name", 100),
        kind=kind,
        opening_balance=_money(obj, "opening_balance") if "opening_balance" in obj else Decimal(0),
        opening_date=_day(obj, "opening_date"),
        archived=archived,
    )


def _transfer(obj: dict) -> ExportedTransfer:
    amount = _money(obj, "amount")
    if amount <= 0:
        raise _Bad("a transfer's amount must be positive")
    return ExportedTransfer(
        id=_id(obj, "id"),
        from_account=_id(obj, "from_account"),
        to_account=_id(obj, "to_account"),
        amount=amount,
        date=_day(obj, "date"),
        description=_text(obj, "description", 255),
        from_transaction=_id(obj, "from_transaction"),
        to_transaction=_id(obj, "to_transaction"),
    )

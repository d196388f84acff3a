"""A transaction's history, as the members of its ledger see it."""

from decimal import Decimal
from typing import Any

from accounts.models import User
from ledger import scope
from ledger.models import Transaction

HISTORY_FIELDS = (
    "type",
    "description",
    "amount",
    "date",
    "category_id",
    "account_id",
    "status",
    "version",
)
HISTORY_TYPES = {"+": "created", "~": "updated", "-": "deleted"}


def _plain(value: Any) -> Any:
    """A JSON-safe value for a diff: money as a two-place string, dates in ISO form."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def transaction_history(*, user: User, transaction_id: Any) -> list[dict[str, Any]]:
    """One transaction's history as `user` may see it, oldest first, each entry with its diff:
    the records made while it was in one of the user's ledgers.

    Empty when the id is not a transaction of the user's ledgers (now or before it was deleted).
    """
    try:
        pk = int(transaction_id)
    except (TypeError, ValueError):
        return []
    records = (
        scope.visible(Transaction.history.filter(id=pk), user)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    entries: list[dict[str, Any]] = []
    before: dict[str, Any] = {}
    for record in records:
        after = {field: getattr(record, field) for field in HISTORY_FIELDS}
        changes = [
            {
                "field": field.removesuffix("_id"),
                "before": _plain(before.get(field)),
                "after": _plain(value),
            }
            for field, value in after.items()
            if field != "version" and before and before.get(field) != value
        ]
        entries.append(
            {
                "history_id": record.history_id,
                "action": HISTORY_TYPES[record.history_type],
                "at": record.history_date,
                "by": record.history_user.email if record.history_user else None,
                "values": {field.removesuffix("_id"): value for field, value in after.items()},
                "changes": changes,
            }
        )
        before = after
    return entries

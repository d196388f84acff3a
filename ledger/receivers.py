"""What the ledger does when another app's rows change."""

from typing import Any

from ledger import services


def personal_ledger_for_new_user(
    sender: Any, instance: Any, created: bool, raw: bool, **_: Any
) -> None:
    """A new user's personal ledger, with its "Main" account, in the user's own transaction.
    Fixtures (`raw`) bring their ledgers with them."""
    if created and not raw:
        services.ledger_create(user=instance, name=services.PERSONAL_LEDGER_NAME, personal=True)


def transfers_of_deleted_user(sender: Any, instance: Any, **_: Any) -> None:
    """A user deleted takes their personal ledger with them (a cascade): first the transfers
    with a leg in it go whole, so no other ledger keeps half of one; and no shared ledger is
    left without an owner."""
    ledger = services.personal_ledger_of(user=instance)
    if ledger is not None:
        with services.unit_of_work(ledger.pk):
            services.transfers_of_ledger_delete(ledger_id=ledger.pk, keep_reconciled=False)
    services.ledgers_of_departing_user(user=instance)

"""One write of the ledger: a database transaction that, before it commits, ends the cached
answers (`ledger.cached_reads`) of every user whose ledger it changed.

Every service opens one, naming the owners it writes for; a service called inside another's
unit joins it (as a savepoint), and only the outermost unit ends the cached answers, once per
owner. The ledger's models refuse to be saved or deleted outside a unit (`require`), so a write
that forgets it fails at once instead of serving stale summaries.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

from ledger import cached_reads


class UnitOfWork:
    def __init__(self) -> None:
        self.owners: set[int] = set()

    def changed(self, *owner_ids: int) -> None:
        """Mark these users' ledgers as changed: their cached answers end with the unit."""
        self.owners.update(owner_ids)


_current: ContextVar[UnitOfWork | None] = ContextVar("ledger_unit_of_work", default=None)


@contextmanager
def unit_of_work(*owner_ids: int) -> Iterator[UnitOfWork]:
    """Open a unit for a write of these owners' ledgers (more may be marked with `changed`)."""
    outer = _current.get()
    if outer is not None:
        with transaction.atomic():  # a savepoint: a part that fails rolls back alone
            outer.changed(*owner_ids)
            yield outer
        return
    unit = UnitOfWork()
    unit.changed(*owner_ids)
    with transaction.atomic():
        token = _current.set(unit)
        try:
            yield unit
            # A transaction marked for rollback (an idempotent request answered with an error)
            # keeps nothing: there is nothing to end, and it may send no more statements.
            if not transaction.get_rollback():
                for owner_id in sorted(unit.owners):
                    cached_reads.ledger_changed(owner_id)
        finally:
            # Closed before the transaction ends: what runs on its commit (an import run in
            # this process) writes in units of its own.
            _current.reset(token)


class OutsideUnitOfWork(RuntimeError):
    pass


def require() -> UnitOfWork:
    """The unit of work open here; refuses a write of the ledger outside one (a programming
    error)."""
    unit = _current.get()
    if unit is None:
        raise OutsideUnitOfWork("Write the ledger through ledger.services (a unit of work).")
    return unit

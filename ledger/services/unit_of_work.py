"""One write of the ledgers: a database transaction that, before it commits, ends the cached
answers (`ledger.cached_reads`) of every member of every ledger it changed, and of every user
whose memberships it changed.

Every service opens one, naming the ledgers it writes; a service called inside another's unit
joins it (as a savepoint), and only the outermost unit ends the cached answers, in one statement.
The ledger's models refuse to be saved or deleted outside a unit (`require`), so a write that
forgets it fails at once instead of serving stale summaries.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

from ledger import cached_reads


class UnitOfWork:
    def __init__(self) -> None:
        self.ledgers: set[int] = set()
        self.users: set[int] = set()

    def changed(self, *ledger_ids: int | None) -> None:
        """Mark these ledgers as changed: their members' cached answers end with the unit."""
        self.ledgers.update(i for i in ledger_ids if i is not None)

    def members_changed(self, *user_ids: int) -> None:
        """Mark these users' memberships as changed (a member added, removed or given another
        role; a ledger deleted): their cached answers end with the unit. Name them before their
        memberships are deleted."""
        self.users.update(user_ids)


_current: ContextVar[UnitOfWork | None] = ContextVar("ledger_unit_of_work", default=None)


@contextmanager
def unit_of_work(*ledger_ids: int | None) -> Iterator[UnitOfWork]:
    """Open a unit for a write of these ledgers (more may be marked with `changed`)."""
    outer = _current.get()
    if outer is not None:
        with transaction.atomic():  # a savepoint: a part that fails rolls back alone
            outer.changed(*ledger_ids)
            yield outer
        return
    unit = UnitOfWork()
    unit.changed(*ledger_ids)
    with transaction.atomic():
        token = _current.set(unit)
        try:
            yield unit
            # A transaction marked for rollback (an idempotent request answered with an error)
            # keeps nothing: there is nothing to end, and it may send no more statements.
            if not transaction.get_rollback() and (unit.ledgers or unit.users):
                cached_reads.ledgers_changed(ledger_ids=unit.ledgers, user_ids=unit.users)
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

"""Writes of budgets: one per category and month of a ledger (`Budget.month` is the month's
first day, whatever day is given), and the copy of a month's budgets to another."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import User
from ledger import scope
from ledger.models import Budget, Category, Ledger
from ledger.services.transactions import conditional_update, lock_at_version
from ledger.services.unit_of_work import unit_of_work

BUDGET_FIELDS = ("category", "month", "amount")
DUPLICATE = "This category already has a budget for {month:%Y-%m}."


def budget_check(budget: Budget) -> None:
    """Normalise the month to its first day and check the rules a form cannot see: the category
    is in the budget's ledger, and has no other budget that month (reported on `month`)."""
    budget.month = budget.month.replace(day=1)
    if budget.category.ledger_id != budget.ledger_id:
        raise ValidationError({"category": "The category is not in the budget's ledger."})
    if budget.amount is not None and budget.amount < 0:
        raise ValidationError({"amount": "A budget cannot be negative."})
    others = Budget.objects.filter(
        ledger_id=budget.ledger_id, category_id=budget.category_id, month=budget.month
    )
    if others.exclude(pk=budget.pk).exists():
        raise ValidationError({"month": DUPLICATE.format(month=budget.month)})


def budget_create(
    *,
    actor: User,
    category: Category,
    month: datetime.date,
    amount: Decimal,
    ledger: Ledger | None = None,
) -> Budget:
    """A budget of `ledger` (the category's if None)."""
    ledger_id = category.ledger_id if ledger is None else ledger.pk
    scope.require_write(actor, ledger_id)
    budget = Budget(ledger_id=ledger_id, category=category, month=month, amount=amount)
    budget_check(budget)
    budget.full_clean(exclude=["ledger", "category"], validate_constraints=False)
    with unit_of_work(ledger_id):
        budget.save()
    return budget


def budget_update(
    *, budget: Budget, actor: User, data: dict[str, Any], if_version: int | None = None
) -> Budget:
    """Change its category (in the same ledger), month or amount: the fields given."""
    scope.require_write(actor, budget.ledger_id)
    fields = [field for field in BUDGET_FIELDS if field in data]
    for field in fields:
        setattr(budget, field, data[field])
    budget_check(budget)
    budget.full_clean(exclude=["ledger", "category"], validate_constraints=False)
    with unit_of_work(budget.ledger_id):
        conditional_update(budget, {field: getattr(budget, field) for field in fields}, if_version)
    return budget


def budget_delete(*, budget: Budget, actor: User | None, if_version: int | None = None) -> None:
    """`actor` None is staff, in the admin."""
    if actor is not None:
        scope.require_write(actor, budget.ledger_id)
    with unit_of_work(budget.ledger_id):
        lock_at_version(budget, if_version).delete()


@dataclass(frozen=True)
class CopyResult:
    created: list[Budget]
    #: The target month's budgets that were there already, kept as they were.
    skipped: list[Budget]


def budgets_copy(
    *, actor: User, ledger: Ledger, from_month: datetime.date, to_month: datetime.date
) -> CopyResult:
    """Copy the budgets of `from_month` to `to_month` (any day of each), category by category.
    A category that already has a budget in `to_month` keeps it: it is reported as skipped."""
    scope.require_write(actor, ledger.pk)
    from_month, to_month = from_month.replace(day=1), to_month.replace(day=1)
    if from_month == to_month:
        raise ValidationError({"to_month": "Copy to another month than from_month."})
    with unit_of_work(ledger.pk):
        sources = list(Budget.objects.filter(ledger=ledger, month=from_month).order_by("id"))
        targets = Budget.objects.filter(ledger=ledger, month=to_month).select_related("category")
        kept = {budget.category_id: budget for budget in targets}
        new = [
            Budget(ledger=ledger, category_id=b.category_id, month=to_month, amount=b.amount)
            for b in sources
            if b.category_id not in kept
        ]
        # A copy racing another into the same month fails on the unique constraint (409).
        Budget.objects.bulk_create(new)
        created = list(targets.filter(category_id__in=[b.category_id for b in new]))
    skipped = [kept[b.category_id] for b in sources if b.category_id in kept]
    return CopyResult(created=_by_name(created), skipped=_by_name(skipped))


def _by_name(budgets: list[Budget]) -> list[Budget]:
    return sorted(budgets, key=lambda b: (b.category.name.casefold(), b.category_id))


def budget_save(*, budget: Budget) -> None:
    """Save a budget as the admin's form changed it (its ledger is fixed once made)."""
    budget_check(budget)
    with unit_of_work(budget.ledger_id):
        budget.save()


def budget_delete_many(*, budgets: QuerySet[Budget]) -> None:
    """Delete these budgets (the admin's bulk delete)."""
    with unit_of_work(*set(budgets.values_list("ledger_id", flat=True))):
        budgets.delete()

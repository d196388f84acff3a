"""Budgets, already scoped to one user, and a month's budget status computed when read from the
budgets and the rollups (`MonthTotal`): nothing is stored per month, so a month nobody looked at
needs no job to have run.

For each category with a budget that month, in whole cents:

    spent     = -(incomes + expenses of the category in the month)   (refunds reduce it;
                                                                      transfers never count)
    carried   = available of the month before, for a `rollover` category whose chain has
                started (its first budgeted month is earlier); 0 otherwise
    available = budgeted + carried - spent
    over      = available < 0

A rollover category's chain starts at the first month it has a budget: from there every month
counts, a month without a budget with 0 budgeted, so a leftover (or an overspend) carries on
until it is spent (or made up). The category's current `rollover` flag applies to every month.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet, Sum

from accounts.models import User
from ledger import scope
from ledger.choices import TransactionType
from ledger.models import Budget, Category, MonthTotal

#: What a budget counts: incomes in its category are refunds; transfers only move money.
COUNTED_TYPES = (TransactionType.INCOME, TransactionType.EXPENSE)
MONEY = ("budgeted", "spent", "carried", "available")


def budgets_for(*, user: User) -> QuerySet[Budget]:
    """The budgets of the user's ledgers, with their categories."""
    return scope.visible(Budget.objects.select_related("category"), user)


def month_index(month: datetime.date) -> int:
    """Months counted from year 0: consecutive months are consecutive numbers, across years."""
    return month.year * 12 + month.month - 1


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


@dataclass
class _Category:
    """One category's budgets (cents by month index) up to the month asked."""

    category: Category
    budgets: dict[int, int]


def _budgeted_categories(user: User, ledger_id: int, month: datetime.date) -> list[_Category]:
    """The categories with a budget this month, and the rollover ones with a budget in any
    month up to it: one query."""
    rows = budgets_for(user=user).filter(ledger_id=ledger_id, month__lte=month)
    rows = rows.filter(Q(month=month) | Q(category__rollover=True)).order_by()
    found: dict[int, _Category] = {}
    for budget in rows:
        entry = found.setdefault(budget.category_id, _Category(budget.category, {}))
        entry.budgets[month_index(budget.month)] = _cents(budget.amount)
    return list(found.values())


def _spent(
    user: User, ledger_id: int, month: datetime.date, rollover: list[_Category]
) -> dict[tuple[int | None, int], int]:
    """Spending in cents by (category, month index): this month's of every category, and the
    rollover categories' since the earliest of their first budgets, net of refunds; and this
    month's expenses without a category (category None: its incomes are no refunds of anything,
    a salary, say). One grouped query over the rollups."""
    wanted = Q(date=month)
    if rollover:
        start = min(min(entry.budgets) for entry in rollover)
        first = datetime.date(start // 12, start % 12 + 1, 1)
        ids = [entry.category.pk for entry in rollover]
        wanted |= Q(category_id__in=ids, date__gte=first, date__lte=month)
    rows = (
        scope.visible(MonthTotal.objects.order_by(), user)
        .filter(wanted, ledger_id=ledger_id, type__in=COUNTED_TYPES)
        .values("category", "date")
        .annotate(
            net=Sum(F("inflow") + F("outflow")),
            expenses=Sum("outflow", filter=Q(type=TransactionType.EXPENSE)),
        )
    )
    # Expenses are negative and refunds positive: what is spent is the sum's opposite.
    return {
        (row["category"], month_index(row["date"])): -(
            row["net"] if row["category"] is not None else row["expenses"] or 0
        )
        for row in rows
    }


def _row(entry: _Category, spent: dict[tuple[int | None, int], int], now: int) -> dict[str, int]:
    """budgeted, spent, carried and available of the month `now`, in cents."""
    category = entry.category
    first = min(entry.budgets) if category.rollover else now
    available = carried = 0
    for index in range(first, now + 1):
        carried = available
        budgeted = entry.budgets.get(index, 0)
        month_spent = spent.get((category.pk, index), 0)
        available = budgeted + carried - month_spent
    return {"budgeted": budgeted, "spent": month_spent, "carried": carried, "available": available}


def budget_status(*, user: User, ledger_id: int, month: datetime.date) -> dict[str, Any]:
    """The budget status of one of the user's ledgers in `month` (any day of it).

    Returns `{"ledger": id, "month": first day, "rows": [...], "total": {...}}`. A row per
    category budgeted this month, and per rollover category whose chain has started with
    something carried or spent this month (budgeted 0): `category`, `category_name`,
    `rollover`, `budgeted`, `spent`, `carried`, `available` (Decimal, two places) and `over`
    (available < 0), by name. `total` sums the four amounts and adds `unbudgeted_spent`: this
    month's spending net of refunds in each category without a row (one whose incomes exceed
    its expenses counts 0), plus the expenses without a category. A ledger the user is not in
    reads as one without budgets. Two queries, whatever the months and categories.
    """
    month = month.replace(day=1)
    now = month_index(month)
    categories = _budgeted_categories(user, ledger_id, month)
    spent = _spent(user, ledger_id, month, [c for c in categories if c.category.rollover])
    rows = []
    for entry in sorted(categories, key=lambda e: (e.category.name.casefold(), e.category.pk)):
        cents = _row(entry, spent, now)
        if now not in entry.budgets and not (cents["carried"] or cents["spent"]):
            continue  # a rollover chain with nothing to show this month
        rows.append(
            {
                "category": entry.category.pk,
                "category_name": entry.category.name,
                "rollover": entry.category.rollover,
                **{name: _money(cents[name]) for name in MONEY},
                "over": cents["available"] < 0,
            }
        )
    return {"ledger": ledger_id, "month": month, "rows": rows, "total": _total(rows, spent, now)}


def _total(
    rows: list[dict[str, Any]], spent: dict[tuple[int | None, int], int], now: int
) -> dict[str, Decimal]:
    total: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for row in rows:
        for name in MONEY:
            total[name] += row[name]
    shown = {row["category"] for row in rows}
    # An income category (a salary) is no negative spending: it counts 0.
    unbudgeted = sum(
        max(cents, 0)
        for (category, index), cents in spent.items()
        if index == now and category not in shown
    )
    return {**{name: total[name] for name in MONEY}, "unbudgeted_spent": _money(unbudgeted)}

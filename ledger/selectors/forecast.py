"""The cash-flow forecast: an account's (or a ledger's) balance day by day until a date, from
today's balance, the transactions already dated later, the occurrences its schedules will post
and, if asked, what is left of its budgets.

Budgets count as spending to come, spread evenly over the days left in each month: for the
current month what is `available` in it (budget_status), for a later month what is budgeted;
in both, less what the category's recorded and scheduled transactions of the month already
spend, and never below zero.
"""

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from accounts.models import User
from ledger import scope
from ledger.choices import TransactionType
from ledger.models import Account, ScheduleSkip, Transaction
from ledger.selectors.budgets import budget_status, budgets_for
from ledger.selectors.rollups import RollupSet, _month_end, _next_month
from ledger.selectors.schedules import pending, schedules_of

CENT = Decimal("0.01")


def _balance_through(user: User, accounts: list[Account], today: datetime.date) -> Decimal:
    """Opening balances plus every transaction dated up to today, from the rollups."""
    ids = [a.pk for a in accounts]
    rollups = RollupSet(user, narrow=lambda rows: rows.filter(account__in=ids), date_before=today)
    cents = 0
    for part in rollups.parts():
        found = part.aggregate(inflow=Sum("inflow"), outflow=Sum("outflow"))
        cents += (found["inflow"] or 0) + (found["outflow"] or 0)
    opening = sum((a.opening_balance for a in accounts), Decimal("0"))
    return opening + Decimal(cents) / 100


Moves = dict[datetime.date, list[dict[str, Any]]]
Planned = dict[tuple[int | None, datetime.date], Decimal]


def forecast(
    *,
    user: User,
    accounts: list[Account],
    today: datetime.date,
    until: datetime.date,
    budget_ledger: int | None = None,
) -> dict[str, Any]:
    """The forecast of these accounts (all of one ledger, or one) from `today` to `until`;
    with `budget_ledger`, that ledger's budgets count as spending to come."""
    ids = {a.pk for a in accounts}
    moves: Moves = defaultdict(list)
    _later_transactions(user, ids, today, until, moves)
    # The budgets' months run to their ends, and every account's schedules spend from them.
    horizon = _month_end(until) if budget_ledger is not None else until
    ledgers = {a.ledger_id for a in accounts}
    if budget_ledger is not None:
        ledgers.add(budget_ledger)
    planned = _scheduled(user, ledgers, ids, today, until, horizon, moves)
    if budget_ledger is not None:
        for day, item in _budget_spending(user, budget_ledger, today, until, planned):
            moves[day].append(item)
    return _running(_balance_through(user, accounts, today), moves, today, until)


def _later_transactions(
    user: User, ids: set[int], today: datetime.date, until: datetime.date, moves: Moves
) -> None:
    """The transactions of these accounts dated after today."""
    later = scope.visible(Transaction.objects.all(), user).filter(
        account__in=ids, date__gt=today, date__lte=until
    )
    rows = later.order_by("date", "id").values("id", "date", "description", "amount", "category")
    for row in rows:
        moves[row["date"]].append(
            {
                "kind": "transaction",
                "transaction": row["id"],
                "description": row["description"],
                "amount": row["amount"],
                "category": row["category"],
            }
        )


def _scheduled(
    user: User,
    ledgers: set[int],
    ids: set[int],
    today: datetime.date,
    until: datetime.date,
    horizon: datetime.date,
    moves: Moves,
) -> Planned:
    """The occurrences the schedules of these accounts will post, into `moves`; returned, what
    every schedule of the ledgers will spend by category and month up to `horizon`."""
    schedules = list(schedules_of(user=user, ledger_ids=sorted(ledgers)))
    skips: dict[int, set[datetime.date]] = defaultdict(set)
    for schedule_id, day in ScheduleSkip.objects.filter(schedule__in=schedules).values_list(
        "schedule_id", "date"
    ):
        skips[schedule_id].add(day)
    planned: Planned = defaultdict(Decimal)
    for schedule in schedules:
        for _, when in pending(schedule, until=horizon, skipped=skips[schedule.pk]):
            day = max(when, today)  # one due and not yet posted is posted at the next run
            if schedule.account_id in ids and day <= until:
                moves[day].append(
                    {
                        "kind": "schedule",
                        "schedule": schedule.pk,
                        "description": schedule.description,
                        "amount": schedule.amount,
                        "category": schedule.category_id,
                    }
                )
            if schedule.type == TransactionType.EXPENSE:
                planned[(schedule.category_id, day.replace(day=1))] += -schedule.amount
    return planned


def _budget_spending(
    user: User, ledger_id: int, today: datetime.date, until: datetime.date, planned: Planned
) -> list[tuple[datetime.date, dict[str, Any]]]:
    """What is left of each month's budgets, as expected spending spread over the month's days
    to come (from tomorrow in the current month)."""
    found = []
    for (category, month), (name, remaining) in _budgets_left(user, ledger_id, today, until):
        remaining -= planned.get((category, month), Decimal("0"))
        first = today + datetime.timedelta(days=1) if month <= today else month
        if remaining <= 0 or first > _month_end(month):
            continue
        shares = _shares(remaining, (_month_end(month) - first).days + 1)
        for offset, share in enumerate(shares):
            day = first + datetime.timedelta(days=offset)
            if day > until:
                break
            if share:
                item = {"kind": "budget", "category": category, "description": name}
                found.append((day, {**item, "amount": -share}))
    return found


def _budgets_left(
    user: User, ledger_id: int, today: datetime.date, until: datetime.date
) -> list[tuple[tuple[int, datetime.date], tuple[str, Decimal]]]:
    """Each month's budgets less what is recorded against them, by (category, month), months in
    order: the current month's `available`, which counts its spending and what it carries, and
    the later months' amounts less the spending already dated in them."""
    this_month = today.replace(day=1)
    left: dict[tuple[int, datetime.date], tuple[str, Decimal]] = {}
    for row in budget_status(user=user, ledger_id=ledger_id, month=this_month)["rows"]:
        left[(row["category"], this_month)] = (row["category_name"], Decimal(row["available"]))
    later = budgets_for(user=user).filter(ledger=ledger_id, month__gt=this_month, month__lte=until)
    spent = _recorded_spending(user, ledger_id, today, _month_end(until))
    for budget in later:
        key = (budget.category_id, budget.month)
        left[key] = (budget.category.name, budget.amount - spent.get(key, Decimal("0")))
    return sorted(left.items(), key=lambda kv: kv[0][1])


def _recorded_spending(
    user: User, ledger_id: int, today: datetime.date, until: datetime.date
) -> dict[tuple[int, datetime.date], Decimal]:
    """Net spending by category and month of the transactions recorded for the months after this
    one (the current month's is in its budget status)."""
    rows = (
        scope.visible(Transaction.objects.all(), user)
        .filter(ledger=ledger_id, date__gte=_next_month(today), date__lte=until)
        .filter(Q(type=TransactionType.EXPENSE) | Q(type=TransactionType.INCOME))
        .exclude(category=None)
        .values_list("category_id", "date", "amount")
    )
    spent: dict[tuple[int, datetime.date], Decimal] = defaultdict(Decimal)
    for category, day, amount in rows:
        spent[(category, day.replace(day=1))] -= amount
    return spent


def _shares(total: Decimal, days: int) -> list[Decimal]:
    """`total` in `days` shares of whole cents that add up to it, the larger ones first."""
    cents = int((total / CENT).to_integral_value())
    base, extra = divmod(cents, days)
    return [Decimal(base + (1 if i < extra else 0)) * CENT for i in range(days)]


def _running(
    opening: Decimal,
    moves: dict[datetime.date, list[dict[str, Any]]],
    today: datetime.date,
    until: datetime.date,
) -> dict[str, Any]:
    balance = opening
    days: list[dict[str, Any]] = []
    lowest: dict[str, Any] = {
        "date": today,
        "change": Decimal("0"),
        "balance": opening,
        "items": [],
    }
    first_negative = today if opening < 0 else None
    for day in sorted(moves):
        change = sum((item["amount"] for item in moves[day]), Decimal("0"))
        balance += change
        entry: dict[str, Any] = {"date": day, "change": change, "balance": balance}
        entry["items"] = moves[day]
        days.append(entry)
        if balance < lowest["balance"]:
            lowest = entry
        if first_negative is None and balance < 0:
            first_negative = day
    return {
        "today": today,
        "until": until,
        "opening_balance": opening,
        "closing_balance": balance,
        "lowest": lowest,
        "first_negative": first_negative,
        "days": days,
    }

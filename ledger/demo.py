"""The demo ledger `manage.py seed_demo` creates: the tutorial's four rows and months of variety."""

import datetime
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from ledger import services
from ledger.choices import TransactionType
from ledger.models import Transaction
from ledger.services.budgets import budget_create
from ledger.services.schedules import schedule_create

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "try-cashman-now"  # noqa: S105 - a published demo account, documented in README

TUTORIAL_ROWS = [
    (TransactionType.INCOME, "Salary", Decimal("5000")),
    (TransactionType.INCOME, "Dividends", Decimal("200")),
    (TransactionType.EXPENSE, "pizza", Decimal("50")),
    (TransactionType.EXPENSE, "Rock Concert", Decimal("100")),
]

# (category, description, smallest, largest, times a month)
#: The demo's categories whose budget's leftover (or overspend) carries into the next month.
ROLLOVER = {"Groceries", "Fun"}

MONTHLY_EXPENSES = [
    ("Rent", "Rent", 950, 950, 1),
    ("Groceries", "Supermarket", 20, 140, 6),
    ("Transport", "Bus pass", 45, 45, 1),
    ("Fun", "Cinema", 12, 30, 2),
    ("Eating out", "Restaurant", 25, 90, 2),
]


def month_start(day: datetime.date, *, back: int) -> datetime.date:
    """The first day of the month `back` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


@transaction.atomic
def seed_demo(*, months: int = 6, today: datetime.date | None = None, reset: bool = False) -> User:
    """Create (or with reset=True, recreate) the demo user's personal ledger, in its default
    account: the tutorial's rows dated `today` (by default today in DJANGO_TIME_ZONE, as a
    transaction's default date is) and the `months` whole months before it. The same `today`
    always gives the same rows."""
    today = today or timezone.localdate()
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user = account_services.user_create(
            email=DEMO_EMAIL, password=DEMO_PASSWORD, first_name="Demo", last_name="User"
        )
    ledger = services.personal_ledger(user=user)
    if reset:
        services.ledger_clear(ledger_id=ledger.pk)
    if Transaction.objects.filter(ledger=ledger).exists():
        return user

    account = services.default_account(user=user)
    categories = {
        name: services.category_create(
            actor=user, name=name, ledger=ledger, rollover=name in ROLLOVER
        )
        for name in sorted({row[0] for row in MONTHLY_EXPENSES} | {"Salary"})
    }
    for type_, description, amount in TUTORIAL_ROWS:
        services.transaction_create(
            actor=user,
            type=type_,
            description=description,
            amount=amount,
            date=today,
            account=account,
        )
    rng = random.Random(42)  # noqa: S311 - demo data, deterministic on purpose
    for back in range(1, months + 1):
        first = month_start(today, back=back)
        services.transaction_create(
            actor=user,
            type=TransactionType.INCOME,
            description="Salary",
            amount=Decimal("5000"),
            date=first,
            category=categories["Salary"],
            account=account,
        )
        for category, description, low, high, times in MONTHLY_EXPENSES:
            for _ in range(times):
                services.transaction_create(
                    actor=user,
                    type=TransactionType.EXPENSE,
                    description=description,
                    amount=Decimal(rng.randint(low * 100, high * 100)) / 100,
                    date=first + datetime.timedelta(days=rng.randint(0, 27)),
                    category=categories[category],
                    account=account,
                )
    _plan(user, account, categories, today)
    return user


def _plan(user: User, account: Any, categories: dict[str, Any], today: datetime.date) -> None:
    """Budgets for last month and this one, and the rent and salary as schedules from next
    month on: what budgets/status/ and forecast/ show."""
    for back in (1, 0):
        for category, _, _, high, times in MONTHLY_EXPENSES:
            budget_create(
                actor=user,
                category=categories[category],
                month=month_start(today, back=back),
                amount=Decimal(high * times),
            )
    first = month_start(today, back=-1)
    for type_, description, amount, category in (
        (TransactionType.EXPENSE, "Rent", Decimal("950"), "Rent"),
        (TransactionType.INCOME, "Salary", Decimal("5000"), "Salary"),
    ):
        schedule_create(
            actor=user,
            account=account,
            type=type_,
            description=description,
            amount=amount,
            category=categories[category],
            start_date=first,
            rule={"freq": "monthly", "by_month_day": [1]},
            weekend="after",
        )

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from ledger.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from ledger.models import Budget, Category, Schedule, Transaction
from ledger.selectors.budgets import budget_status
from ledger.services import unit_of_work
from ledger.tests.factories import main_account, personal_ledger

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_tutorial_rows_and_history_once(api_client):
    out = StringIO()
    call_command("seed_demo", months=3, stdout=out)
    assert DEMO_EMAIL in out.getvalue()
    rows = Transaction.objects.filter(ledger__personal_for__email=DEMO_EMAIL)
    tutorial = dict(
        rows.filter(description__in=["Dividends", "pizza", "Rock Concert"]).values_list(
            "description", "amount"
        )
    )
    assert tutorial == {
        "Dividends": Decimal("200.00"),
        "pizza": Decimal("-50.00"),
        "Rock Concert": Decimal("-100.00"),
    }
    assert rows.filter(description="Salary", amount=Decimal("5000.00")).count() == 4
    count = rows.count()
    assert count == 4 + 3 * 13
    assert len({d.strftime("%Y-%m") for d in rows.values_list("date", flat=True)}) == 4
    demo = User.objects.get(email=DEMO_EMAIL)
    assert set(rows.values_list("account", "created_by")) == {(main_account(demo).pk, demo.pk)}
    assert set(
        Category.objects.filter(ledger__personal_for=demo).values_list("name", flat=True)
    ) == {"Rent", "Groceries", "Transport", "Fun", "Eating out", "Salary"}

    call_command("seed_demo", stdout=StringIO())
    assert rows.count() == count

    response = api_client.post(
        "/api/v1/auth/token/", {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200


def test_seed_demo_reset_recreates(db):
    call_command("seed_demo", months=1, stdout=StringIO())
    demo = User.objects.get(email=DEMO_EMAIL)
    with unit_of_work(personal_ledger(demo).pk):
        Transaction.objects.filter(description="pizza").delete()
    call_command("seed_demo", months=1, reset=True, stdout=StringIO())
    assert Transaction.objects.filter(description="pizza").count() == 1
    assert Schedule.objects.filter(ledger=personal_ledger(demo)).count() == 2
    assert Budget.objects.filter(ledger=personal_ledger(demo)).count() == 2 * 5


def test_seed_demo_plans_budgets_and_schedules(db, settings, time_machine):
    # The schedules count from the day they are made: the clock's, frozen on the demo's today.
    settings.TIME_ZONE = "UTC"
    time_machine.move_to(datetime.datetime(2027, 1, 31, 12, tzinfo=datetime.UTC), tick=False)
    today = datetime.date(2027, 1, 31)
    demo = seed_demo(months=2, today=today)
    ledger = personal_ledger(demo)
    status = budget_status(user=demo, ledger_id=ledger.pk, month=today)
    assert [row["category_name"] for row in status["rows"]] == [
        "Eating out", "Fun", "Groceries", "Rent", "Transport",
    ]  # fmt: skip
    rent = next(row for row in status["rows"] if row["category_name"] == "Rent")
    assert (rent["budgeted"], rent["rollover"]) == (Decimal("950.00"), False)
    groceries = next(row for row in status["rows"] if row["category_name"] == "Groceries")
    assert groceries["rollover"] is True
    schedules = Schedule.objects.filter(ledger=ledger).order_by("description")
    assert [(s.description, s.amount, s.next_date) for s in schedules] == [
        ("Rent", Decimal("-950.00"), datetime.date(2027, 2, 1)),
        ("Salary", Decimal("5000.00"), datetime.date(2027, 2, 1)),
    ]

"""The cash-flow forecast (`forecast/`): today's balance, the transactions already dated later,
the occurrences the schedules will post and, with `budgets=true`, what is left of the budgets,
day by day with a running balance; `first_negative` and `lowest`; and its 400s and 404s. The
clock is frozen at noon UTC on Wednesday 10 March 2027."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger import services
from ledger.choices import Role, TransactionType
from ledger.models import Account
from ledger.services import schedules
from ledger.services.budgets import budget_create
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    add_member,
    main_account,
)

pytestmark = pytest.mark.django_db

FORECAST = reverse("api:forecast-list")
D = datetime.date
TODAY = D(2027, 3, 10)
CENT = Decimal("0.01")


@pytest.fixture(autouse=True)
def frozen(time_machine, settings):
    settings.TIME_ZONE = "UTC"
    time_machine.move_to(datetime.datetime(2027, 3, 10, 12, tzinfo=datetime.UTC), tick=False)


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def opening(account: Account, user, amount: str) -> Account:
    return services.account_update(
        account=account, actor=user, data={"opening_balance": Decimal(amount)}
    )


def record(user, account, amount: str, day: datetime.date, **fields):
    """A transaction through the service: a negative amount is an expense."""
    value = Decimal(amount)
    return services.transaction_create(
        actor=user,
        account=account,
        type=TransactionType.INCOME if value > 0 else TransactionType.EXPENSE,
        description=fields.pop("description", f"{amount} on {day}"),
        amount=abs(value),
        date=day,
        **fields,
    )


def schedule(user, account, amount: str, rule: dict, **fields):
    value = Decimal(amount)
    return schedules.schedule_create(
        actor=user,
        account=account,
        type=TransactionType.INCOME if value > 0 else TransactionType.EXPENSE,
        description=fields.pop("description", "Scheduled"),
        amount=abs(value),
        start_date=fields.pop("start_date", TODAY),
        rule=rule,
        **fields,
    )


def forecast(user, **params) -> dict:
    response = api(user).get(FORECAST, params)
    assert response.status_code == 200, response.content
    return response.json()


def balances(answer: dict) -> dict[str, str]:
    return {day["date"]: day["balance"] for day in answer["days"]}


class TestAccountForecast:
    def test_opening_balance_is_the_balance_at_the_end_of_today(self, user):
        main = opening(main_account(user), user, "1000.00")
        record(user, main, "-200.00", D(2026, 12, 31))  # an earlier month
        record(user, main, "-100.00", D(2027, 3, 1))  # this month, before today
        record(user, main, "50.00", TODAY)  # today
        record(user, main, "-30.00", D(2027, 3, 20))  # later: a movement to come
        answer = forecast(user, account=main.pk, until="2027-03-31")
        assert answer["today"] == "2027-03-10"
        assert answer["until"] == "2027-03-31"
        assert answer["opening_balance"] == "750.00"
        assert answer["closing_balance"] == "720.00"
        assert answer["days"] == [
            {
                "date": "2027-03-20",
                "change": "-30.00",
                "balance": "720.00",
                "items": [
                    {
                        "kind": "transaction",
                        "transaction": answer["days"][0]["items"][0]["transaction"],
                        "description": "-30.00 on 2027-03-20",
                        "amount": "-30.00",
                        "category": None,
                    }
                ],
            }
        ]
        assert answer["first_negative"] is None
        # The account's own balance counts every transaction, the later one too.
        shown = api(user).get(reverse("api:account-detail", args=[main.pk])).json()
        assert shown["balance"] == "720.00"

    def test_a_later_transaction_shows_its_category(self, user):
        """Items carry `category` (schedules' and budgets' do): a later transaction's must be
        its own, not null, or a client grouping the forecast by category miscounts it."""
        food = CategoryFactory(owner=user, name="Food")
        main = main_account(user)
        tx = record(user, main, "-30.00", D(2027, 3, 20), category=food)
        (item,) = forecast(user, account=main.pk, until="2027-03-31")["days"][0]["items"]
        assert (item["transaction"], item["category"]) == (tx.pk, food.pk)

    def test_schedule_occurrences_by_day_with_a_running_balance(self, user):
        main = opening(main_account(user), user, "1500.00")
        schedule(
            user, main, "-1200.00", {"freq": "monthly", "by_month_day": [31]}, description="Rent"
        )
        schedule(user, main, "2000.00", {"freq": "monthly", "by_month_day": [1]}, description="Pay")
        record(user, main, "-100.00", D(2027, 4, 15), description="Dentist")
        answer = forecast(user, account=main.pk, until="2027-04-30")
        assert answer["opening_balance"] == "1500.00"
        assert balances(answer) == {
            "2027-03-31": "300.00",
            "2027-04-01": "2300.00",
            "2027-04-15": "2200.00",
            "2027-04-30": "1000.00",
        }
        assert answer["closing_balance"] == "1000.00"
        rent = answer["days"][0]
        assert rent["change"] == "-1200.00"
        assert [(i["kind"], i["description"], i["amount"]) for i in rent["items"]] == [
            ("schedule", "Rent", "-1200.00")
        ]
        assert answer["lowest"]["date"] == "2027-03-31"
        assert answer["lowest"]["balance"] == "300.00"
        assert answer["first_negative"] is None

    def test_first_negative_is_the_first_day_below_zero(self, user):
        main = opening(main_account(user), user, "1000.00")
        schedule(user, main, "-1200.00", {"freq": "monthly", "by_month_day": [31]})
        schedule(user, main, "1500.00", {"freq": "monthly", "by_month_day": [1]})
        answer = forecast(user, account=main.pk, until="2027-05-31")
        assert balances(answer) == {
            "2027-03-31": "-200.00",
            "2027-04-01": "1300.00",
            "2027-04-30": "100.00",
            "2027-05-01": "1600.00",
            "2027-05-31": "400.00",
        }
        assert answer["first_negative"] == "2027-03-31"
        assert answer["lowest"]["date"] == "2027-03-31"
        assert answer["lowest"]["balance"] == "-200.00"

    def test_zero_is_not_negative(self, user):
        main = opening(main_account(user), user, "100.00")
        record(user, main, "-100.00", D(2027, 3, 15))
        answer = forecast(user, account=main.pk, until="2027-03-31")
        assert balances(answer) == {"2027-03-15": "0.00"}
        assert answer["first_negative"] is None

    def test_first_negative_is_today_when_already_negative(self, user):
        main = opening(main_account(user), user, "-50.00")
        answer = forecast(user, account=main.pk)
        assert answer["opening_balance"] == "-50.00"
        assert answer["first_negative"] == "2027-03-10"
        assert answer["until"] == "2027-06-08"  # 90 days by default

    def test_lowest_counts_todays_balance(self, user):
        """Already 100 below zero today, back above tomorrow: the lowest balance of the span
        is today's, not tomorrow's."""
        main = opening(main_account(user), user, "-100.00")
        record(user, main, "500.00", D(2027, 3, 11))
        answer = forecast(user, account=main.pk, until="2027-03-31")
        assert answer["first_negative"] == "2027-03-10"
        assert answer["lowest"]["balance"] == "-100.00", answer["lowest"]
        assert answer["lowest"]["date"] == "2027-03-10"

    def test_never_negative_and_nothing_to_come(self, user):
        main = opening(main_account(user), user, "10.00")
        answer = forecast(user, account=main.pk, until="2027-03-10")
        assert answer["days"] == []
        assert answer["first_negative"] is None
        assert answer["closing_balance"] == answer["opening_balance"] == "10.00"

    def test_a_due_occurrence_not_yet_posted_counts_today(self, user, time_machine):
        time_machine.move_to(datetime.datetime(2027, 3, 1, 12, tzinfo=datetime.UTC), tick=False)
        main = main_account(user)
        schedule(
            user, main, "-40.00", {"freq": "monthly", "by_month_day": [5]}, start_date=D(2027, 3, 1)
        )
        time_machine.move_to(datetime.datetime(2027, 3, 10, 12, tzinfo=datetime.UTC), tick=False)
        # Nothing ran since the 5th: the next run posts it, so it is money gone from today.
        answer = forecast(user, account=main.pk, until="2027-04-05")
        assert balances(answer) == {"2027-03-10": "-40.00", "2027-04-05": "-80.00"}
        assert answer["first_negative"] == "2027-03-10"

    def test_posted_skipped_and_weekend_moved_occurrences(self, user):
        main = opening(main_account(user), user, "1000.00")
        # Saturdays from today, posted the Monday after; 13 March is skipped.
        weekly = schedule(
            user, main, "-10.00", {"freq": "weekly", "by_weekday": ["SA"]}, weekend="after"
        )
        schedules.schedule_skip(schedule=weekly, actor=user, date=D(2027, 3, 13))
        answer = forecast(user, account=main.pk, until="2027-03-29")
        assert balances(answer) == {"2027-03-22": "990.00", "2027-03-29": "980.00"}

    def test_a_weekend_move_brings_an_occurrence_into_the_span(self, user):
        """Saturday 1 May, posted the Friday before: a forecast to 30 April includes it."""
        main = main_account(user)
        schedule(user, main, "-25.00", {"freq": "monthly", "by_month_day": [1]}, weekend="before")
        answer = forecast(user, account=main.pk, until="2027-04-30")
        assert balances(answer) == {"2027-04-01": "-25.00", "2027-04-30": "-50.00"}
        answer = forecast(user, account=main.pk, until="2027-04-29")
        assert balances(answer) == {"2027-04-01": "-25.00"}

    def test_an_archived_accounts_schedules_are_left_out(self, user):
        savings = services.account_create(actor=user, name="Savings")
        schedule(user, savings, "-10.00", {"freq": "daily"})
        services.account_update(account=savings, actor=user, data={"archived": True})
        answer = forecast(user, account=savings.pk, until="2027-03-20")
        assert answer["days"] == []

    def test_an_ended_schedule_adds_nothing(self, user):
        main = main_account(user)
        schedule(user, main, "-10.00", {"freq": "daily"}, count=3)
        answer = forecast(user, account=main.pk, until="2027-03-31")
        assert balances(answer) == {
            "2027-03-10": "-10.00",
            "2027-03-11": "-20.00",
            "2027-03-12": "-30.00",
        }


class TestLedgerForecast:
    def test_all_the_accounts_of_a_ledger(self, user):
        household = SharedLedgerFactory(owner=user)
        main = opening(Account.objects.get(ledger=household, name="Main"), user, "500.00")
        savings = services.account_create(
            actor=user, ledger=household, name="Savings", opening_balance=Decimal("2000.00")
        )
        record(user, main, "-100.00", D(2027, 3, 2))
        services.transfer_create(
            actor=user, from_account=savings, to_account=main, amount=Decimal("300"), date=TODAY
        )
        services.transfer_create(
            actor=user,
            from_account=savings,
            to_account=main,
            amount=Decimal("50"),
            date=D(2027, 3, 12),
        )
        schedule(user, savings, "-1000.00", {"freq": "monthly", "by_month_day": [15]})
        schedule(user, main, "-200.00", {"freq": "monthly", "by_month_day": [15]})
        # Another ledger of the user's: not in this forecast.
        record(user, main_account(user), "-999.00", D(2027, 3, 15))
        answer = forecast(user, ledger=household.pk, until="2027-03-31")
        assert answer["opening_balance"] == "2400.00"
        # The transfer's two legs cancel out within the ledger.
        assert balances(answer) == {"2027-03-12": "2400.00", "2027-03-15": "1200.00"}
        day = answer["days"][1]
        assert sorted(i["amount"] for i in day["items"]) == ["-1000.00", "-200.00"]

        only_main = forecast(user, account=main.pk, until="2027-03-31")
        assert only_main["opening_balance"] == "700.00"
        assert balances(only_main) == {"2027-03-12": "750.00", "2027-03-15": "550.00"}

    def test_a_viewer_reads_it(self, user):
        founder = UserFactory()
        household = SharedLedgerFactory(owner=founder)
        main = opening(Account.objects.get(ledger=household, name="Main"), founder, "80.00")
        add_member(household, user, Role.VIEWER)
        assert forecast(user, ledger=household.pk)["opening_balance"] == "80.00"
        assert forecast(user, account=main.pk)["opening_balance"] == "80.00"


class TestBudgets:
    @pytest.fixture
    def food(self, user):
        return CategoryFactory(owner=user, name="Food")

    def budget_items(self, answer: dict) -> dict[str, list[tuple[str, Decimal]]]:
        """Each month's budget items: [(date, amount)]."""
        found = defaultdict(list)
        for day in answer["days"]:
            for item in day["items"]:
                if item["kind"] == "budget":
                    found[day["date"][:7]].append((day["date"], Decimal(item["amount"])))
        return found

    def test_the_rest_of_this_months_budget_spread_over_the_days_left(self, user, food):
        main = main_account(user)
        budget_create(actor=user, category=food, month=D(2027, 3, 1), amount=Decimal("300"))
        record(user, main, "-100.00", D(2027, 3, 5), category=food)
        answer = forecast(user, account=main.pk, until="2027-03-31", budgets="true")
        items = self.budget_items(answer)["2027-03"]
        # 200.00 left over the 21 days from 11 to 31 March: 8 of 9.53 and 13 of 9.52.
        assert [day for day, _ in items] == [f"2027-03-{d:02d}" for d in range(11, 32)]
        assert sum(amount for _, amount in items) == Decimal("-200.00")
        assert all(amount == amount.quantize(CENT) for _, amount in items)
        assert sorted({amount for _, amount in items}) == [Decimal("-9.53"), Decimal("-9.52")]
        assert answer["closing_balance"] == "-300.00"
        food_item = answer["days"][0]["items"][0]
        assert (food_item["category"], food_item["description"]) == (food.pk, "Food")

    def test_scheduled_and_recorded_spending_are_not_counted_twice(self, user, food):
        main = main_account(user)
        budget_create(actor=user, category=food, month=D(2027, 3, 1), amount=Decimal("300"))
        budget_create(actor=user, category=food, month=D(2027, 4, 1), amount=Decimal("400"))
        record(user, main, "-100.00", D(2027, 3, 5), category=food)
        record(user, main, "-50.00", D(2027, 4, 3), category=food)  # recorded ahead
        schedule(user, main, "-60.00", {"freq": "monthly", "by_month_day": [20]}, category=food)
        answer = forecast(user, account=main.pk, until="2027-04-30", budgets="true")
        items = self.budget_items(answer)
        # March: 300 - 100 spent - 60 scheduled = 140 over 21 days.
        assert len(items["2027-03"]) == 21
        assert sum(a for _, a in items["2027-03"]) == Decimal("-140.00")
        # April: 400 - 50 recorded - 60 scheduled = 290 over the whole month.
        assert [d for d, _ in items["2027-04"]] == [f"2027-04-{d:02d}" for d in range(1, 31)]
        assert sum(a for _, a in items["2027-04"]) == Decimal("-290.00")
        for month in items.values():
            amounts = [a for _, a in month]
            assert max(amounts) - min(amounts) <= CENT
        # Everything spent by the end of April: the budgets, no more and no less.
        assert answer["closing_balance"] == "-700.00"

    def test_spending_scheduled_from_another_account_of_the_ledger_is_not_counted_again(
        self, user, food
    ):
        """The budget is the ledger's: rent scheduled from the savings account is taken off it
        in the current account's forecast too, even when `until` stops before the rent's day."""
        main = main_account(user)
        savings = AccountFactory(owner=user, name="Savings")
        budget_create(actor=user, category=food, month=D(2027, 4, 1), amount=Decimal("1000"))
        schedule(user, savings, "-950.00", {"freq": "monthly", "by_month_day": [28]}, category=food)
        answer = forecast(user, account=main.pk, until="2027-04-10", budgets="true")
        items = self.budget_items(answer)
        # 1000 - 950 = 50 left for April, 10 of its 30 days in the forecast.
        assert sum(a for _, a in items["2027-04"]) == Decimal("-16.70")
        assert not [i for d in answer["days"] for i in d["items"] if i["kind"] == "schedule"]

    def test_a_forecast_ending_mid_month_takes_only_its_days(self, user, food):
        budget_create(actor=user, category=food, month=D(2027, 4, 1), amount=Decimal("300"))
        answer = forecast(user, account=main_account(user).pk, until="2027-04-10", budgets="true")
        items = self.budget_items(answer)
        assert len(items["2027-04"]) == 10
        assert sum(a for _, a in items["2027-04"]) == Decimal("-100.00")

    def test_an_overspent_budget_adds_nothing(self, user, food):
        main = main_account(user)
        budget_create(actor=user, category=food, month=D(2027, 3, 1), amount=Decimal("50"))
        record(user, main, "-80.00", D(2027, 3, 5), category=food)
        answer = forecast(user, account=main.pk, until="2027-03-31", budgets="true")
        assert self.budget_items(answer) == {}

    def test_without_budgets_true_budgets_are_left_out(self, user, food):
        budget_create(actor=user, category=food, month=D(2027, 3, 1), amount=Decimal("300"))
        answer = forecast(user, account=main_account(user).pk, until="2027-03-31")
        assert answer["days"] == []

    def test_a_ledger_forecast_with_budgets(self, user):
        household = SharedLedgerFactory(owner=user)
        groceries = CategoryFactory(ledger=household, name="Groceries")
        budget_create(actor=user, category=groceries, month=D(2027, 3, 1), amount=Decimal("2.10"))
        answer = forecast(user, ledger=household.pk, until="2027-03-31", budgets="true")
        items = self.budget_items(answer)["2027-03"]
        assert [a for _, a in items] == [Decimal("-0.10")] * 21


class TestBadInput:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({}, "account"),
            ({"until": "2027-04-01"}, "account"),
            ({"until": "2027-03-09", "account": "MAIN"}, "until"),
            ({"until": "2032-03-11", "account": "MAIN"}, "until"),
            ({"until": "2027-13-01", "account": "MAIN"}, "until"),
            ({"until": "tomorrow", "account": "MAIN"}, "until"),
            ({"account": "MAIN", "budgets": "perhaps"}, "budgets"),
            ({"account": "MAIN", "ledger": "LEDGER"}, "account"),
            ({"account": "nope"}, "account"),
            ({"ledger": "0"}, "ledger"),
        ],
    )
    def test_400_naming_the_field(self, user, params, field):
        main = main_account(user)
        ids = {"MAIN": str(main.pk), "LEDGER": str(main.ledger_id)}
        params = {k: ids.get(v, v) for k, v in params.items()}
        response = api(user).get(FORECAST, params)
        assert response.status_code == 400, response.content
        assert field in response.json(), response.json()

    def test_five_years_ahead_is_the_limit(self, user):
        answer = forecast(user, account=main_account(user).pk, until="2032-03-10")
        assert answer["until"] == "2032-03-10"

    def test_today_is_a_valid_until(self, user):
        assert forecast(user, account=main_account(user).pk, until="2027-03-10")["days"] == []

    def test_a_ledger_the_user_is_not_in(self, user):
        stranger = UserFactory()
        theirs = main_account(stranger)
        response = api(user).get(FORECAST, {"ledger": theirs.ledger_id})
        assert response.status_code == 400
        assert response.json()["ledger"] == [f"No such ledger: {theirs.ledger_id}."]
        missing = api(user).get(FORECAST, {"ledger": 999_999})
        assert missing.status_code == 400
        assert missing.json()["ledger"] == ["No such ledger: 999999."]

    def test_an_account_of_another_user(self, user):
        theirs = main_account(UserFactory())
        response = api(user).get(FORECAST, {"account": theirs.pk})
        assert response.status_code == 400
        assert set(response.json()) == {"account"}

    def test_anonymous(self, db):
        assert APIClient().get(FORECAST, {"account": 1}).status_code == 401


class TestQueryCount:
    def queries(self, user, main) -> int:
        client = api(user)
        params = {"account": main.pk, "until": "2027-12-31", "budgets": "true"}
        with CaptureQueriesContext(connection) as captured:
            assert client.get(FORECAST, params).status_code == 200
        return len(captured)

    def add(self, user, main, n: int) -> None:
        for _ in range(n):
            category = CategoryFactory(owner=user)
            schedule(user, main, "-10.00", {"freq": "weekly"}, category=category)
            record(user, main, "-5.00", D(2027, 3, 2), category=category)
            record(user, main, "-5.00", D(2027, 6, 2), category=category)
            for month in (3, 4, 9):
                budget_create(
                    actor=user, category=category, month=D(2027, month, 1), amount=Decimal("50")
                )

    def test_the_same_whatever_the_schedules_transactions_and_budgets(self, user):
        """A fixed number of statements, however many schedules, transactions and budgets: 1
        of each against 8 of each."""
        main = main_account(user)
        self.add(user, main, 1)
        few = self.queries(user, main)
        self.add(user, main, 7)
        assert self.queries(user, main) == few

"""Budgets with rollover (docs/budgets.md): their CRUD and copy over the API, who may
see and change them, the month's status (spent net of refunds, carried for rollover categories
across a year boundary, over, the total row), its query count, and the admin."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.choices import Role, TransactionType
from ledger.models import Budget, Category, Transaction
from ledger.services.budgets import budget_create
from ledger.services.unit_of_work import unit_of_work
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

BUDGETS = reverse("api:budget-list")
STATUS = reverse("api:budget-status")
COPY = reverse("api:budget-copy")
INCOME = TransactionType.INCOME
EXPENSE = TransactionType.EXPENSE
NOV, DEC, JAN = datetime.date(2026, 11, 1), datetime.date(2026, 12, 1), datetime.date(2027, 1, 1)
MISSING = 999_999


def detail(budget) -> str:
    return reverse("api:budget-detail", args=[budget.pk if hasattr(budget, "pk") else budget])


def results(response) -> list:
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def budget(user, category, month, amount) -> Budget:
    return budget_create(actor=user, category=category, month=month, amount=Decimal(amount))


def spend(category, amount, day, *, type=EXPENSE, account=None):
    """A transaction of `category`'s ledger in `account` (its "Main" by default)."""
    account = account or category.ledger.accounts.get(name="Main")
    return TransactionFactory(
        account=account, category=category, type=type, amount=Decimal(amount), date=day
    )


def status(client, ledger, month: str) -> dict:
    response = client.get(STATUS, {"ledger": ledger.pk, "month": month})
    assert response.status_code == 200, response.content
    return response.json()


def row_of(answer: dict, category) -> dict | None:
    return next((row for row in answer["rows"] if row["category"] == category.pk), None)


@pytest.fixture
def ledger(user):
    return personal_ledger(user)


@pytest.fixture
def food(user):
    return CategoryFactory(owner=user, name="Food")


@pytest.fixture
def rent(user):
    return CategoryFactory(owner=user, name="Rent")


# --- CRUD --------------------------------------------------------------------------------------


class TestCrud:
    def test_create_shows_the_month_as_yyyy_mm(self, auth_client, ledger, food):
        response = auth_client.post(
            BUDGETS,
            {"ledger": ledger.pk, "category": food.pk, "month": "2026-12", "amount": "250.5"},
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["ledger"] == ledger.pk
        assert body["category"] == food.pk
        assert body["category_name"] == "Food"
        assert body["month"] == "2026-12"
        assert body["amount"] == "250.50"
        assert response.has_header("ETag")
        stored = Budget.objects.get(pk=body["id"])
        assert stored.month == DEC and stored.amount == Decimal("250.50")

    def test_the_ledger_defaults_to_the_categorys(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.EDITOR)
        groceries = CategoryFactory(ledger=shared, name="Groceries")
        response = auth_client.post(
            BUDGETS, {"category": groceries.pk, "month": "2027-01", "amount": "0"}
        )
        assert response.status_code == 201, response.content
        assert response.json()["ledger"] == shared.pk
        assert response.json()["amount"] == "0.00"

    def test_list_filters_by_ledger_month_and_category(self, auth_client, user, food, rent):
        budget(user, food, NOV, "10")
        budget(user, food, DEC, "20")
        budget(user, rent, DEC, "30")
        everything = results(auth_client.get(BUDGETS))
        assert [(b["category_name"], b["month"]) for b in everything] == [
            ("Food", "2026-12"),
            ("Rent", "2026-12"),
            ("Food", "2026-11"),
        ]
        december = results(auth_client.get(BUDGETS, {"month": "2026-12"}))
        assert [b["amount"] for b in december] == ["20.00", "30.00"]
        foods = results(auth_client.get(BUDGETS, {"category": food.pk}))
        assert [b["month"] for b in foods] == ["2026-12", "2026-11"]
        mine = results(auth_client.get(BUDGETS, {"ledger": personal_ledger(user).pk}))
        assert len(mine) == 3

    def test_a_bad_month_filter_is_a_400_naming_it(self, auth_client):
        response = auth_client.get(BUDGETS, {"month": "2026-13"})
        assert response.status_code == 400
        assert "month" in response.json()

    def test_put_patch_and_delete(self, auth_client, user, food, rent):
        made = budget(user, food, DEC, "100")
        response = auth_client.put(
            detail(made), {"category": rent.pk, "month": "2027-01", "amount": "80.00"}
        )
        assert response.status_code == 200, response.content
        assert response.json()["category_name"] == "Rent"
        assert response.json()["month"] == "2027-01"
        response = auth_client.patch(detail(made), {"amount": "90"})
        assert response.status_code == 200
        assert response.json()["amount"] == "90.00"
        made.refresh_from_db()
        assert (made.category, made.month, made.amount) == (rent, JAN, Decimal("90.00"))
        assert made.version == 3
        assert auth_client.delete(detail(made)).status_code == 204
        assert not Budget.objects.exists()

    def test_a_stale_if_match_is_a_412_and_changes_nothing(self, auth_client, user, food):
        made = budget(user, food, DEC, "100")
        etag = auth_client.get(detail(made))["ETag"]
        assert (
            auth_client.patch(detail(made), {"amount": "1"}, HTTP_IF_MATCH=etag).status_code == 200
        )
        response = auth_client.patch(detail(made), {"amount": "2"}, HTTP_IF_MATCH=etag)
        assert response.status_code == 412
        made.refresh_from_db()
        assert made.amount == Decimal("1.00")

    def test_a_second_budget_for_the_category_and_month_is_a_400_on_month(
        self, auth_client, user, food
    ):
        budget(user, food, DEC, "100")
        response = auth_client.post(
            BUDGETS, {"category": food.pk, "month": "2026-12", "amount": "5"}
        )
        assert response.status_code == 400
        assert response.json() == {"month": ["This category already has a budget for 2026-12."]}
        assert Budget.objects.count() == 1

    def test_moving_a_budget_onto_a_taken_month_is_a_400_on_month(self, auth_client, user, food):
        budget(user, food, DEC, "100")
        november = budget(user, food, NOV, "50")
        response = auth_client.patch(detail(november), {"month": "2026-12"})
        assert response.status_code == 400
        assert list(response.json()) == ["month"]
        november.refresh_from_db()
        assert november.month == NOV

    @pytest.mark.parametrize(
        "given, field",
        [
            ({"month": "2026-13"}, "month"),
            ({"month": "2026-1"}, "month"),
            ({"month": "2026-12-01"}, "month"),
            ({"month": "0000-05"}, "month"),
            ({"month": 202612}, "month"),
            ({"month": ""}, "month"),
            ({"amount": "-0.01"}, "amount"),
            ({"amount": "abc"}, "amount"),
            ({"category": MISSING}, "category"),
            ({"ledger": MISSING}, "ledger"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, auth_client, food, given, field):
        body = {"category": food.pk, "month": "2026-12", "amount": "10", **given}
        response = auth_client.post(BUDGETS, body, format="json")
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert not Budget.objects.exists()

    def test_a_category_of_another_of_your_ledgers_is_a_400_on_category(
        self, auth_client, user, ledger
    ):
        household = SharedLedgerFactory(owner=user)
        theirs = CategoryFactory(ledger=household, name="Elsewhere")
        response = auth_client.post(
            BUDGETS, {"ledger": ledger.pk, "category": theirs.pk, "month": "2026-12", "amount": "1"}
        )
        assert response.status_code == 400
        assert response.json() == {"category": ["The category is not in the budget's ledger."]}
        assert not Budget.objects.exists()


# --- Who sees and changes what -----------------------------------------------------------------


class TestScope:
    def test_an_outsider_gets_the_answers_of_a_missing_id(self, auth_client, other_user):
        theirs = CategoryFactory(owner=other_user, name="Secret")
        their_budget = budget(other_user, theirs, DEC, "100")
        their_ledger = personal_ledger(other_user)

        assert results(auth_client.get(BUDGETS)) == []
        for target in (their_budget.pk, MISSING):
            assert auth_client.get(detail(target)).status_code == 404
            assert auth_client.patch(detail(target), {"amount": "1"}).status_code == 404
            assert auth_client.delete(detail(target)).status_code == 404
        by_filter = auth_client.get(BUDGETS, {"ledger": their_ledger.pk})
        assert by_filter.status_code == 400 and list(by_filter.json()) == ["ledger"]

        def answer(response):
            return response.status_code, response.json()

        for pk, noun in ((their_ledger.pk, "ledger"), (MISSING, "ledger")):
            response = auth_client.get(STATUS, {"ledger": pk, "month": "2026-12"})
            assert answer(response) == (400, {"ledger": [f"No such {noun}: {pk}."]})
        for pk in (theirs.pk, MISSING):
            response = auth_client.post(
                BUDGETS, {"category": pk, "month": "2026-12", "amount": "1"}
            )
            assert answer(response) == (400, {"category": [f"No such category: {pk}."]})
        response = auth_client.post(
            COPY, {"ledger": their_ledger.pk, "from_month": "2026-12", "to_month": "2027-01"}
        )
        assert answer(response) == (400, {"ledger": [f"No such ledger: {their_ledger.pk}."]})
        their_budget.refresh_from_db()
        assert their_budget.amount == Decimal("100.00")
        assert Budget.objects.count() == 1

    def test_a_viewer_reads_and_every_write_is_a_403(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=other_user, name="Household")
        add_member(shared, user, Role.VIEWER)
        groceries = CategoryFactory(ledger=shared, name="Groceries")
        made = budget(other_user, groceries, DEC, "100")
        spend(groceries, "40", datetime.date(2026, 12, 3))

        assert [b["id"] for b in results(auth_client.get(BUDGETS))] == [made.pk]
        assert auth_client.get(detail(made)).json()["amount"] == "100.00"
        row = row_of(status(auth_client, shared, "2026-12"), groceries)
        assert row["spent"] == "40.00" and row["available"] == "60.00"

        writes = [
            auth_client.post(
                BUDGETS, {"category": groceries.pk, "month": "2027-01", "amount": "1"}
            ),
            auth_client.put(
                detail(made), {"category": groceries.pk, "month": "2026-12", "amount": "1"}
            ),
            auth_client.patch(detail(made), {"amount": "1"}),
            auth_client.delete(detail(made)),
            auth_client.post(
                COPY, {"ledger": shared.pk, "from_month": "2026-12", "to_month": "2027-01"}
            ),
        ]
        assert [w.status_code for w in writes] == [403] * 5
        assert list(Budget.objects.values_list("pk", "amount", "month")) == [
            (made.pk, Decimal("100.00"), DEC)
        ]

    def test_an_editor_writes(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.EDITOR)
        groceries = CategoryFactory(ledger=shared, name="Groceries")
        made = budget(other_user, groceries, DEC, "100")
        assert auth_client.patch(detail(made), {"amount": "7"}).json()["amount"] == "7.00"


# --- Copy --------------------------------------------------------------------------------------


class TestCopy:
    def test_copy_keeps_the_target_months_budgets_and_says_which(
        self, auth_client, user, ledger, food, rent
    ):
        budget(user, food, DEC, "300")
        budget(user, rent, DEC, "900")
        kept = budget(user, food, JAN, "250")
        budget(user, food, NOV, "1")  # another month: not copied
        response = auth_client.post(
            COPY, {"ledger": ledger.pk, "from_month": "2026-12", "to_month": "2027-01"}
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert [(b["category_name"], b["month"], b["amount"]) for b in body["created"]] == [
            ("Rent", "2027-01", "900.00")
        ]
        assert [(b["id"], b["category_name"], b["amount"]) for b in body["skipped"]] == [
            (kept.pk, "Food", "250.00")
        ]
        january = Budget.objects.filter(month=JAN).order_by("category__name")
        assert [(b.category.name, b.amount) for b in january] == [
            ("Food", Decimal("250.00")),
            ("Rent", Decimal("900.00")),
        ]

    def test_copying_again_creates_nothing(self, auth_client, user, ledger, food):
        budget(user, food, DEC, "300")
        given = {"ledger": ledger.pk, "from_month": "2026-12", "to_month": "2027-01"}
        assert len(auth_client.post(COPY, given).json()["created"]) == 1
        again = auth_client.post(COPY, given).json()
        assert again["created"] == [] and len(again["skipped"]) == 1
        assert Budget.objects.filter(month=JAN).count() == 1

    @pytest.mark.parametrize(
        "given, field",
        [
            ({"to_month": "2026-12"}, "to_month"),
            ({"from_month": "2026-00"}, "from_month"),
            ({"to_month": "26-01"}, "to_month"),
            ({"ledger": MISSING}, "ledger"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(
        self, auth_client, user, ledger, food, given, field
    ):
        budget(user, food, DEC, "300")
        body = {"ledger": ledger.pk, "from_month": "2026-12", "to_month": "2027-01", **given}
        response = auth_client.post(COPY, body)
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert Budget.objects.count() == 1


# --- Status ------------------------------------------------------------------------------------


class TestStatus:
    def test_spent_is_expenses_less_refunds(self, auth_client, user, ledger, food):
        budget(user, food, DEC, "300")
        spend(food, "120", datetime.date(2026, 12, 2))
        spend(food, "50.25", datetime.date(2026, 12, 31))
        spend(food, "20", datetime.date(2026, 12, 15), type=INCOME)  # a refund
        spend(food, "999", datetime.date(2026, 11, 30))  # another month
        assert row_of(status(auth_client, ledger, "2026-12"), food) == {
            "category": food.pk,
            "category_name": "Food",
            "rollover": False,
            "budgeted": "300.00",
            "spent": "150.25",
            "carried": "0.00",
            "available": "149.75",
            "over": False,
        }

    def test_transfers_are_not_counted(self, auth_client, user, ledger, food):
        budget(user, food, DEC, "100")
        savings = AccountFactory(owner=user, name="Savings")
        transfer = services.transfer_create(
            actor=user,
            from_account=main_account(user),
            to_account=savings,
            amount=Decimal("70"),
            date=datetime.date(2026, 12, 5),
        )
        with unit_of_work(ledger.pk):  # even a transfer's legs put in the category
            Transaction.objects.filter(transfer=transfer).update(category=food)
        spend(food, "10", datetime.date(2026, 12, 6))
        answer = status(auth_client, ledger, "2026-12")
        assert row_of(answer, food)["spent"] == "10.00"
        assert answer["total"]["unbudgeted_spent"] == "0.00"

    def test_rollover_carries_a_leftover_across_the_year(self, auth_client, user, ledger):
        gifts = CategoryFactory(owner=user, name="Gifts", rollover=True)
        budget(user, gifts, NOV, "100")
        spend(gifts, "40", datetime.date(2026, 11, 20))
        spend(gifts, "10", datetime.date(2026, 12, 24))  # December has no budget
        budget(user, gifts, JAN, "100")

        november = row_of(status(auth_client, ledger, "2026-11"), gifts)
        assert (november["carried"], november["available"]) == ("0.00", "60.00")
        december = row_of(status(auth_client, ledger, "2026-12"), gifts)
        assert december == {
            "category": gifts.pk,
            "category_name": "Gifts",
            "rollover": True,
            "budgeted": "0.00",
            "spent": "10.00",
            "carried": "60.00",
            "available": "50.00",
            "over": False,
        }
        january = row_of(status(auth_client, ledger, "2027-01"), gifts)
        assert january["budgeted"] == "100.00"
        assert (january["carried"], january["spent"], january["available"]) == (
            "50.00",
            "0.00",
            "150.00",
        )
        # Before the first budget the chain has not started.
        assert status(auth_client, ledger, "2026-10")["rows"] == []

    def test_rollover_carries_an_overspend_across_the_year(self, auth_client, user, ledger):
        fuel = CategoryFactory(owner=user, name="Fuel", rollover=True)
        budget(user, fuel, NOV, "100")
        spend(fuel, "130", datetime.date(2026, 11, 3))
        budget(user, fuel, DEC, "100")
        spend(fuel, "50", datetime.date(2026, 12, 3))
        budget(user, fuel, JAN, "50")
        spend(fuel, "80", datetime.date(2027, 1, 3))

        november = row_of(status(auth_client, ledger, "2026-11"), fuel)
        assert (november["available"], november["over"]) == ("-30.00", True)
        december = row_of(status(auth_client, ledger, "2026-12"), fuel)
        assert (december["carried"], december["available"], december["over"]) == (
            "-30.00",
            "20.00",
            False,
        )
        january = row_of(status(auth_client, ledger, "2027-01"), fuel)
        assert (january["carried"], january["available"], january["over"]) == (
            "20.00",
            "-10.00",
            True,
        )

    def test_without_rollover_nothing_is_carried(self, auth_client, user, ledger, food):
        budget(user, food, NOV, "100")
        spend(food, "30", datetime.date(2026, 11, 3))  # 70 left: dropped
        budget(user, food, DEC, "100")
        spend(food, "150", datetime.date(2026, 12, 3))  # 50 over: not carried
        budget(user, food, JAN, "100")

        december = row_of(status(auth_client, ledger, "2026-12"), food)
        assert (december["carried"], december["available"], december["over"]) == (
            "0.00",
            "-50.00",
            True,
        )
        january = row_of(status(auth_client, ledger, "2027-01"), food)
        assert (january["carried"], january["available"], january["over"]) == (
            "0.00",
            "100.00",
            False,
        )

    def test_a_rollover_category_with_nothing_carried_or_spent_has_no_row(
        self, auth_client, user, ledger
    ):
        gifts = CategoryFactory(owner=user, name="Gifts", rollover=True)
        budget(user, gifts, NOV, "100")
        spend(gifts, "100", datetime.date(2026, 11, 3))
        assert status(auth_client, ledger, "2026-12")["rows"] == []

    def test_turning_rollover_on_through_the_categories_api(self, auth_client, user, ledger, food):
        budget(user, food, NOV, "100")
        spend(food, "30", datetime.date(2026, 11, 3))
        budget(user, food, DEC, "100")
        assert row_of(status(auth_client, ledger, "2026-12"), food)["carried"] == "0.00"
        url = reverse("api:category-detail", args=[food.pk])
        response = auth_client.patch(url, {"rollover": True})
        assert response.status_code == 200 and response.json()["rollover"] is True
        assert response.json()["name"] == "Food"
        row = row_of(status(auth_client, ledger, "2026-12"), food)
        assert (row["rollover"], row["carried"], row["available"]) == (True, "70.00", "170.00")
        created = auth_client.post(
            reverse("api:category-list"), {"name": "Trips", "rollover": True}
        )
        assert created.status_code == 201 and created.json()["rollover"] is True
        assert Category.objects.get(name="Trips").rollover is True

    def test_the_total_row_and_unbudgeted_spending(self, auth_client, user, ledger, food, rent):
        fun = CategoryFactory(owner=user, name="Fun")
        gifts = CategoryFactory(owner=user, name="Gifts", rollover=True)
        budget(user, gifts, NOV, "50")  # 50 carried into December
        budget(user, food, DEC, "300")
        budget(user, rent, DEC, "900")
        spend(food, "320", datetime.date(2026, 12, 1))
        spend(rent, "900", datetime.date(2026, 12, 1))
        spend(fun, "25", datetime.date(2026, 12, 9))
        spend(fun, "5", datetime.date(2026, 12, 10), type=INCOME)
        TransactionFactory(owner=user, amount=Decimal("7.50"), date=datetime.date(2026, 12, 11))
        TransactionFactory(owner=user, type=INCOME, amount=Decimal("3000"), date=DEC)  # salary
        spend(CategoryFactory(owner=user, name="Bonus"), "500", DEC, type=INCOME)

        answer = status(auth_client, ledger, "2026-12")
        assert answer["ledger"] == ledger.pk and answer["month"] == "2026-12"
        assert [(r["category_name"], r["available"], r["over"]) for r in answer["rows"]] == [
            ("Food", "-20.00", True),
            ("Gifts", "50.00", False),
            ("Rent", "0.00", False),
        ]
        # Fun's 25 less its 5 refund, and the 7.50 expense without a category; neither income
        # (the salary without a category, the bonus's category) is negative spending.
        assert answer["total"] == {
            "budgeted": "1200.00",
            "spent": "1220.00",
            "carried": "50.00",
            "available": "30.00",
            "unbudgeted_spent": "27.50",
        }

    def test_a_month_without_budgets_answers_empty_rows(self, auth_client, ledger):
        assert status(auth_client, ledger, "2031-05") == {
            "ledger": ledger.pk,
            "month": "2031-05",
            "rows": [],
            "total": {
                "budgeted": "0.00",
                "spent": "0.00",
                "carried": "0.00",
                "available": "0.00",
                "unbudgeted_spent": "0.00",
            },
        }

    @pytest.mark.parametrize(
        "query, field",
        [
            ({"month": "2026-13"}, "month"),
            ({"month": "december"}, "month"),
            ({}, "month"),
            ({"ledger": "x", "month": "2026-12"}, "ledger"),
        ],
    )
    def test_bad_query_is_a_400_naming_the_field(self, auth_client, ledger, query, field):
        response = auth_client.get(STATUS, {"ledger": ledger.pk, **query})
        assert response.status_code == 400
        assert list(response.json()) == [field]

    def test_query_count_does_not_grow_with_months_or_categories(
        self, auth_client, user, ledger, food
    ):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert (
                    auth_client.get(STATUS, {"ledger": ledger.pk, "month": "2027-12"}).status_code
                    == 200
                )
            return len(captured)

        food.rollover = True
        with unit_of_work(ledger.pk):
            food.save()
        budget(user, food, datetime.date(2027, 11, 1), "10")
        spend(food, "1", datetime.date(2027, 12, 2))
        few = queries()
        for n in range(6):
            category = CategoryFactory(owner=user, name=f"C{n}", rollover=n % 2 == 0)
            for month in range(1, 13):
                day = datetime.date(2027 - n % 2, month, 1)
                budget(user, category, day, "10")
                spend(category, "3", day)
        many = queries()
        # user, memberships, the ledger of the query, the budgets, the rollups
        assert few == many <= 5
        answer = status(auth_client, ledger, "2027-12")
        # Food, and the three rollover ones budgeted through 2027; the others' are of 2026.
        assert [row["category_name"] for row in answer["rows"]] == ["C0", "C2", "C4", "Food"]


# --- Browsable API -----------------------------------------------------------------------------


def test_the_browsable_api_shows_budgets_status_and_the_copy_form(client, user, ledger, food):
    budget(user, food, DEC, "42.00")
    client.force_login(user)
    html = {"HTTP_ACCEPT": "text/html"}
    page = client.get(BUDGETS, **html)
    assert page.status_code == 200 and "42.00" in page.content.decode()
    assert client.get(detail(food.budgets.get()), **html).status_code == 200
    page = client.get(STATUS, {"ledger": ledger.pk, "month": "2026-12"}, **html)
    assert page.status_code == 200 and "&quot;available&quot;: &quot;42.00&quot;" in (
        page.content.decode()
    )
    page = client.get(COPY, **html)  # 405 for GET, with the form to POST
    assert page.status_code == 405 and 'name="from_month"' in page.content.decode()


def test_the_answers_have_the_documented_fields(auth_client, user, ledger, food):
    """The OpenAPI schema names exactly the fields the status and a budget answer with."""
    spec = auth_client.get(reverse("schema"), {"format": "json"}).json()
    components = spec["components"]["schemas"]
    status_path = spec["paths"]["/api/v1/budgets/status/"]["get"]
    assert {p["name"] for p in status_path["parameters"]} >= {"ledger", "month"}
    assert "available = budgeted + carried - spent" in status_path["description"].replace("`", "")
    budget(user, food, DEC, "5")
    answer = status(auth_client, ledger, "2026-12")
    assert set(answer) == set(components["BudgetStatus"]["properties"])
    assert set(answer["rows"][0]) == set(components["BudgetStatusRow"]["properties"])
    assert set(answer["total"]) == set(components["BudgetStatusTotal"]["properties"])
    listed = results(auth_client.get(BUDGETS))
    assert set(listed[0]) == set(components["Budget"]["properties"])


# --- Admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


class TestAdmin:
    def test_changelist_and_add_page_load(self, admin_client, user, food):
        budget(user, food, DEC, "123.45")
        response = admin_client.get(reverse("admin:ledger_budget_changelist"))
        assert response.status_code == 200
        content = response.content.decode()
        assert "Food" in content and "2026-12" in content and "123.45" in content
        response = admin_client.get(reverse("admin:ledger_budget_changelist"), {"q": "food"})
        assert response.status_code == 200 and "123.45" in response.content.decode()
        assert admin_client.get(reverse("admin:ledger_budget_add")).status_code == 200
        change = admin_client.get(
            reverse("admin:ledger_budget_change", args=[food.budgets.get().pk])
        )
        assert change.status_code == 200

    def test_adding_normalises_the_month_and_refuses_a_duplicate(
        self, admin_client, user, ledger, food
    ):
        form = {"ledger": ledger.pk, "category": food.pk, "month": "2026-12-15", "amount": "40"}
        response = admin_client.post(reverse("admin:ledger_budget_add"), form)
        assert response.status_code == 302
        assert Budget.objects.get().month == DEC
        again = admin_client.post(reverse("admin:ledger_budget_add"), form)
        assert again.status_code == 200
        assert "This category already has a budget for 2026-12." in again.content.decode()
        assert Budget.objects.count() == 1

    def test_a_category_of_another_ledger_is_refused(self, admin_client, ledger, other_user):
        theirs = CategoryFactory(owner=other_user, name="Theirs")
        form = {"ledger": ledger.pk, "category": theirs.pk, "month": "2026-12-01", "amount": "1"}
        response = admin_client.post(reverse("admin:ledger_budget_add"), form)
        assert response.status_code == 200
        assert "The category is not in the budget&#x27;s ledger." in response.content.decode()
        assert not Budget.objects.exists()

    def test_changing_keeps_the_ledger_and_gives_a_new_version(self, admin_client, user, food):
        made = budget(user, food, DEC, "1")
        form = {"category": food.pk, "month": "2027-01-31", "amount": "65.10"}
        url = reverse("admin:ledger_budget_change", args=[made.pk])
        assert admin_client.post(url, form).status_code == 302
        made.refresh_from_db()
        assert (made.month, made.amount, made.version) == (JAN, Decimal("65.10"), 2)
        assert made.ledger == food.ledger

    def test_deleting_goes_through_the_service(self, admin_client, user, food):
        made = budget(user, food, DEC, "1")
        response = admin_client.post(
            reverse("admin:ledger_budget_delete", args=[made.pk]), {"post": "yes"}
        )
        assert response.status_code == 302
        assert not Budget.objects.exists()

    def test_category_admin_shows_rollover(self, admin_client, user):
        CategoryFactory(owner=user, name="Gifts", rollover=True)
        response = admin_client.get(
            reverse("admin:ledger_category_changelist"), {"rollover__exact": "1"}
        )
        assert response.status_code == 200 and "Gifts" in response.content.decode()

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse
from rest_framework.test import APIClient

from cashman_site.fastpaths.filters import DateField
from conftest import bearer
from ledger.choices import TransactionType
from ledger.filters import TransactionFilter
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

TRANSACTIONS = reverse("api:transaction-list")


@pytest.fixture
def ledger(make_tx, category):
    income = TransactionType.INCOME
    return {
        "salary": make_tx(
            type=income,
            description="Salary November",
            amount=Decimal("3000"),
            date=datetime.date(2026, 11, 1),
        ),
        "pizza": make_tx(
            description="Pizza night",
            amount=Decimal("25.50"),
            category=category,
            date=datetime.date(2026, 11, 3),
        ),
        "rent": make_tx(
            description="Rent", amount=Decimal("1200"), date=datetime.date(2026, 10, 31)
        ),
        "refund": make_tx(
            type=income,
            description="pizza refund",
            amount=Decimal("25.50"),
            category=category,
            date=datetime.date(2026, 10, 1),
        ),
    }


def names(client, **params) -> set[str]:
    response = client.get(TRANSACTIONS, params)
    assert response.status_code == 200, response.content
    return {row["description"] for row in response.json()["results"]}


def test_type(auth_client, ledger):
    assert names(auth_client, type="INCOME") == {"Salary November", "pizza refund"}


def test_date_range_is_inclusive(auth_client, ledger):
    assert names(auth_client, date_after="2026-10-31", date_before="2026-11-01") == {
        "Rent",
        "Salary November",
    }


def test_category_and_none(auth_client, ledger, category):
    assert names(auth_client, category=category.pk) == {"Pizza night", "pizza refund"}
    assert names(auth_client, category="none") == {"Salary November", "Rent"}


def test_amount_bounds_compare_the_size_whatever_the_sign(auth_client, ledger):
    assert names(auth_client, amount_min="1000") == {"Salary November", "Rent"}
    assert names(auth_client, amount_max="25.50") == {"Pizza night", "pizza refund"}
    assert names(auth_client, amount_min="26", amount_max="1200") == {"Rent"}


def test_search_is_case_insensitive_on_the_description(auth_client, ledger):
    assert names(auth_client, search="PIZZA") == {"Pizza night", "pizza refund"}


@pytest.mark.postgres
def test_a_search_can_use_the_trigram_index(ledger):
    """The index is on the very expression Django's `icontains` compares, so PostgreSQL can
    answer a rare term from it instead of reading every row of the ledger."""
    from django.db import connection

    from ledger.models import Transaction

    rows = Transaction.objects.filter(description__icontains="izza ni")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: not a table scan
        plan = rows.explain()
    assert "ledger_tx_description_trgm_idx" in plan
    assert [t.description for t in rows] == ["Pizza night"]


def test_filters_combine(auth_client, ledger):
    assert names(auth_client, search="pizza", type="EXPENSE", date_after="2026-11-01") == {
        "Pizza night"
    }


@pytest.mark.parametrize(
    "params",
    [
        {"type": "INCOMES"},
        {"date_after": "yesterday"},
        {"date_before": "2026-13-01"},
        {"amount_min": "abc"},
        {"amount_min": "-5"},
        {"amount_max": "1.001"},
        {"category": "abc"},
        {"category": "999999"},
        {"ledger": "abc"},
        {"ledger": "999999"},
        {"account": "abc"},
        {"account": "999999"},
        {"status": "done"},
        {"status": "PENDING"},
    ],
)
def test_bad_filter_values_are_400_naming_the_filter(auth_client, ledger, params):
    response = auth_client.get(TRANSACTIONS, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_another_users_category_cannot_be_used_as_a_filter(auth_client, ledger, other_user):
    theirs = CategoryFactory(owner=other_user)
    response = auth_client.get(TRANSACTIONS, {"category": theirs.pk})
    assert response.status_code == 400


def test_another_users_ledger_and_account_cannot_be_used_as_filters(
    auth_client, ledger, other_user
):
    for params in (
        {"ledger": personal_ledger(other_user).pk},
        {"account": main_account(other_user).pk},
    ):
        response = auth_client.get(TRANSACTIONS, params)
        assert response.status_code == 400
        assert set(response.json()) == set(params)


@pytest.fixture
def household(user, ledger):
    """A second ledger of the user's, with a transaction in each of two accounts."""
    shared = SharedLedgerFactory(owner=user)
    savings = AccountFactory(ledger=shared, name="Savings")
    TransactionFactory(account=shared.accounts.get(name="Main"), description="Groceries")
    TransactionFactory(account=savings, description="Deposit", type=TransactionType.INCOME)
    return {"ledger": shared, "savings": savings}


def test_ledger_and_account(auth_client, user, ledger, household):
    mine = {"Salary November", "Pizza night", "Rent", "pizza refund"}
    assert names(auth_client) == {*mine, "Groceries", "Deposit"}
    assert names(auth_client, ledger=personal_ledger(user).pk) == mine
    assert names(auth_client, ledger=household["ledger"].pk) == {"Groceries", "Deposit"}
    assert names(auth_client, account=main_account(user).pk) == mine
    assert names(auth_client, account=household["savings"].pk) == {"Deposit"}
    assert names(auth_client, ledger=household["ledger"].pk, type="INCOME") == {"Deposit"}
    # An account of another of one's ledgers than the one named: nothing, not an error.
    assert names(auth_client, ledger=personal_ledger(user).pk, account=household["savings"].pk) == (
        set()
    )


def test_status(auth_client, ledger):
    cleared = ledger["rent"]
    assert names(auth_client, status="pending") == {
        "Salary November",
        "Pizza night",
        "Rent",
        "pizza refund",
    }
    with_status = auth_client.patch(
        reverse("api:transaction-detail", args=[cleared.pk]), {"status": "cleared"}
    )
    assert with_status.status_code == 200
    assert names(auth_client, status="cleared") == {"Rent"}
    assert names(auth_client, status="reconciled") == set()
    assert names(auth_client, status="pending") == {
        "Salary November",
        "Pizza night",
        "pizza refund",
    }


def test_filters_apply_to_incomes_and_expenses_too(auth_client, ledger):
    response = auth_client.get(reverse("api:expense-list"), {"search": "pizza"})
    assert {row["description"] for row in response.json()["results"]} == {"Pizza night"}


def test_each_request_chooses_among_its_own_users_categories(
    auth_client, ledger, category, other_user
):
    """The filter form's class is built once for every request; its category choices are not."""
    theirs = CategoryFactory(owner=other_user)
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=bearer(other_user))
    for _ in range(2):
        assert auth_client.get(TRANSACTIONS, {"category": category.pk}).status_code == 200
        assert other_client.get(TRANSACTIONS, {"category": category.pk}).status_code == 400
        assert other_client.get(TRANSACTIONS, {"category": theirs.pk}).status_code == 200
        assert auth_client.get(TRANSACTIONS, {"category": theirs.pk}).status_code == 400
    # The browsable API's filter form offers the same choices.
    page = auth_client.get(TRANSACTIONS, HTTP_ACCEPT="text/html").content.decode()
    assert f'<option value="{category.pk}">' in page
    assert f'<option value="{theirs.pk}">' not in page


def test_a_filtered_list_builds_and_cleans_only_the_filters_it_names(
    auth_client, ledger, category, monkeypatch
):
    """A filter whose parameter is absent filters nothing: the form leaves it out."""
    forms: list[tuple[str, ...]] = []
    build = TransactionFilter.get_form_class

    def recording(self):
        form_class = build(self)
        forms.append(tuple(form_class.base_fields))
        return form_class

    monkeypatch.setattr(TransactionFilter, "get_form_class", recording)
    assert names(auth_client, search="pizza", date_after="2026-10-02") == {"Pizza night"}
    assert names(auth_client, category=category.pk) == {"Pizza night", "pizza refund"}
    response = auth_client.get(TRANSACTIONS, {"search": "x", "amount_max": "1.001"})
    assert set(response.json()) == {"amount_max"}  # errors as before
    assert forms == [("date_after", "search"), ("category",), ("amount_max", "search")]


def test_the_browsable_api_filter_form_shows_every_filter_whatever_is_given(
    auth_client, ledger, category
):
    page = auth_client.get(TRANSACTIONS, {"search": "pizza"}, HTTP_ACCEPT="text/html")
    html = page.content.decode()
    for name in TransactionFilter.base_filters:
        assert f'name="{name}"' in html
    assert f'<option value="{category.pk}">' in html


def test_a_filtered_request_leaves_the_class_filters_without_form_fields(
    auth_client, ledger, monkeypatch
):
    """django-filter deep-copies the class's filters for every request: a form field built on
    one of them would be copied each time too. Choosing the given filters must not build any.
    (The OpenAPI schema's generation builds some; they are dropped here, and rebuilt on demand.)"""
    for filter_ in TransactionFilter.base_filters.values():
        monkeypatch.delattr(filter_, "_field", raising=False)
    assert names(auth_client, search="pizza", date_after="2026-10-02") == {"Pizza night"}
    assert names(auth_client, category="none", amount_min="1") == {"Salary November", "Rent"}
    built = [name for name, f in TransactionFilter.base_filters.items() if hasattr(f, "_field")]
    assert built == []


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-30",
        "0001-01-01",
        "9999-12-31",
        "2024-02-29",
        "2025-02-29",  # no such day
        "2026-13-01",
        "2026-00-10",
        "2026-1-05",  # strptime's %m takes one digit too
        "2026-01-5",
        "2025-W01-1",  # an ISO week date: fromisoformat's, not this format's
        "20260105",
        " 2026-01-05",
        "2026-01-05 ",
        "２０２６-01-05",  # noqa: RUF001  # full-width digits, which strptime's \d matches
        "2026/01/05",
        "",
        "today",
    ],
)
def test_the_date_filter_reads_dates_as_djangos_date_field_does(value):
    def clean(field):
        try:
            return field.clean(value)
        except forms.ValidationError as error:
            return error.messages

    assert clean(DateField(required=False)) == clean(forms.DateField(required=False))


@pytest.mark.parametrize(
    "params",
    [
        {"date_after": "2026-11-01", "search": "coffee"},
        {"date_after": "2026-02-30"},  # no such day: the same 400 either way
        {"date_before": "01/11/2026"},  # not ISO: strptime's formats
        {"category": "none", "type": "INCOME"},
        {"category": "999999"},  # no such category of yours
        {"amount_min": "-1"},
        {"ledger": "999999"},
        {"account": "999999", "status": "cleared"},
    ],
)
def test_without_the_fast_paths_the_filters_answer_the_same(auth_client, settings, params):
    url = reverse("api:transaction-list")
    fast = auth_client.get(url, params)
    settings.CASHMAN_FAST_PATHS = False
    plain = auth_client.get(url, params)
    assert (fast.status_code, fast.json()) == (plain.status_code, plain.json())

import datetime
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger import selectors
from ledger.choices import TransactionType
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db

SUMMARY = reverse("api:summary-list")
MONTHLY = reverse("api:summary-monthly")
BY_CATEGORY = reverse("api:summary-by-category")


@pytest.fixture
def random_ledger(user, other_user):
    """Two hundred transactions of varied sign, month and category, plus noise of another user."""
    rng = random.Random(20261122)
    categories = [CategoryFactory(owner=user, name=name) for name in ("Food", "Rent", "Fun")]
    rows = []
    for _ in range(200):
        rows.append(
            TransactionFactory(
                owner=user,
                type=rng.choice(TransactionType.values),
                amount=Decimal(rng.randint(1, 500_000)) / 100,
                date=datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 330)),
                category=rng.choice([*categories, None]),
                description=rng.choice(["coffee", "salary", "Groceries", "rent"]),
            )
        )
    for _ in range(20):
        TransactionFactory(owner=other_user, type=TransactionType.INCOME, amount=Decimal("1000000"))
    return rows


def totals(rows) -> dict:
    income = sum((t.amount for t in rows if t.type == "INCOME"), Decimal("0"))
    expense = sum((t.amount for t in rows if t.type == "EXPENSE"), Decimal("0"))
    return {
        "income": f"{income:.2f}",
        "expense": f"{expense:.2f}",
        "balance": f"{income + expense:.2f}",
        "count": len(rows),
    }


def test_summary_equals_independent_sums(auth_client, random_ledger):
    response = auth_client.get(SUMMARY)
    assert response.status_code == 200
    assert response.json() == totals(random_ledger)


def test_summary_applies_the_list_filters(auth_client, random_ledger):
    params = {
        "date_after": "2026-03-01",
        "date_before": "2026-06-30",
        "search": "SALARY",
        "amount_min": "100",
    }
    expected = [
        t
        for t in random_ledger
        if datetime.date(2026, 3, 1) <= t.date <= datetime.date(2026, 6, 30)
        and "salary" in t.description.lower()
        and abs(t.amount) >= 100
    ]
    assert auth_client.get(SUMMARY, params).json() == totals(expected)


def test_monthly_has_one_row_per_month_newest_first(auth_client, random_ledger):
    by_month = defaultdict(list)
    for t in random_ledger:
        by_month[t.date.strftime("%Y-%m")].append(t)
    expected = [
        {"month": month, **totals(rows)} for month, rows in sorted(by_month.items(), reverse=True)
    ]
    assert auth_client.get(MONTHLY).json() == expected


def test_by_category_has_one_row_per_category_and_one_for_none(auth_client, random_ledger):
    by_category = defaultdict(list)
    for t in random_ledger:
        by_category[t.category].append(t)
    response = auth_client.get(BY_CATEGORY).json()
    expected = {
        (c.pk if c else None, c.name if c else None): totals(rows)
        for c, rows in by_category.items()
    }
    got = {(row.pop("category"), row.pop("category_name")): row for row in response}
    assert got == expected
    # Named categories in alphabetical order, the uncategorised row last.
    assert list(got) == sorted(expected, key=lambda key: (key[1] is None, key[1] or ""))


@pytest.mark.parametrize(
    ("of_transactions", "of_user"),
    [
        (selectors.summary_total, selectors.summary_total_of),
        (selectors.summary_monthly, selectors.summary_monthly_of),
        (selectors.summary_by_category, selectors.summary_by_category_of),
    ],
    ids=["total", "monthly", "by-category"],
)
def test_a_whole_ledgers_summary_by_statement_equals_the_querysets(
    random_ledger, user, other_user, of_transactions, of_user
):
    # Unfiltered summaries run a statement compiled once, for any user: each gets their own.
    for owner in (user, other_user, UserFactory()):
        expected = of_transactions(transactions=selectors.transactions_for(user=owner))
        assert of_user(user=owner) == expected
        assert str(of_user(user=owner)) == str(expected)  # the same types: Decimal, int, str


def test_an_empty_ledger_sums_to_zero(auth_client):
    assert auth_client.get(SUMMARY).json() == {
        "income": "0.00",
        "expense": "0.00",
        "balance": "0.00",
        "count": 0,
    }
    assert auth_client.get(MONTHLY).json() == []
    assert auth_client.get(BY_CATEGORY).json() == []


def test_bad_filters_are_400(auth_client):
    assert auth_client.get(MONTHLY, {"date_after": "never"}).status_code == 400


@pytest.mark.parametrize("url", [SUMMARY, MONTHLY, BY_CATEGORY])
def test_summaries_take_one_query_whatever_the_size(
    auth_client, random_ledger, url, django_assert_num_queries
):
    # The user behind the token, and the aggregate.
    with django_assert_num_queries(2):
        assert auth_client.get(url).status_code == 200


def test_large_sums_keep_every_cent(auth_client, user):
    for _ in range(30):
        TransactionFactory(
            owner=user, type=TransactionType.INCOME, amount=Decimal("999999999999.99")
        )
    TransactionFactory(owner=user, type=TransactionType.EXPENSE, amount=Decimal("0.01"))
    body = auth_client.get(SUMMARY).json()
    assert body["income"] == "29999999999999.70"
    assert body["balance"] == "29999999999999.69"

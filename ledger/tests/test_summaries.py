import datetime
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger import selectors, services
from ledger.choices import Role, TransactionType
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
)

pytestmark = pytest.mark.django_db

SUMMARY = reverse("api:summary-list")
MONTHLY = reverse("api:summary-monthly")
BY_CATEGORY = reverse("api:summary-by-category")


KINDS = (TransactionType.INCOME, TransactionType.EXPENSE)
DESCRIPTIONS = ["coffee", "salary", "Groceries", "rent"]


@pytest.fixture
def random_ledger(user, other_user):
    """Two hundred transactions of varied sign, month, category, account and ledger (the user's
    own and a household's, written by its other member too), transfers between them and out of
    the household to a ledger the user is not in, plus noise of another user and ledger. Returns
    the rows the user sees."""
    rng = random.Random(20261122)
    household = SharedLedgerFactory(owner=user, name="Household")
    add_member(household, other_user, Role.EDITOR)
    accounts = [
        main_account(user),
        AccountFactory(owner=user, name="Savings"),
        household.accounts.get(),
        AccountFactory(ledger=household, name="Joint savings"),
    ]
    categories = {
        ledger.pk: [CategoryFactory(ledger=ledger, name=name) for name in names]
        for ledger, names in (
            (accounts[0].ledger, ("Food", "Rent", "Fun")),
            (household, ("Food", "Bills")),
        )
    }

    def date() -> datetime.date:
        return datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 330))

    def amount() -> Decimal:
        return Decimal(rng.randint(1, 500_000)) / 100

    rows = []
    for _ in range(200):
        account = rng.choice(accounts)
        rows.append(
            TransactionFactory(
                account=account,
                created_by=rng.choice([user, other_user]) if account.ledger == household else user,
                type=rng.choice(KINDS),
                amount=amount(),
                date=date(),
                category=rng.choice([*categories[account.ledger_id], None]),
                description=rng.choice(DESCRIPTIONS),
            )
        )
    for _ in range(15):
        from_account, to_account = rng.sample(accounts, 2)
        transfer = services.transfer_create(
            actor=user,
            from_account=from_account,
            to_account=to_account,
            amount=amount(),
            date=date(),
            description=rng.choice(DESCRIPTIONS),
        )
        rows.extend(transfer.legs.all())
    # Out of the household into the other member's own ledger: the user sees one leg.
    for _ in range(5):
        transfer = services.transfer_create(
            actor=other_user,
            from_account=rng.choice(accounts[2:]),
            to_account=main_account(other_user),
            amount=amount(),
            date=date(),
            description=rng.choice(DESCRIPTIONS),
        )
        rows.extend(transfer.legs.filter(ledger=household))
    for _ in range(20):
        TransactionFactory(owner=other_user, type=TransactionType.INCOME, amount=Decimal("1000000"))
        TransactionFactory(
            account=SharedLedgerFactory(owner=other_user).accounts.get(),
            type=TransactionType.EXPENSE,
            amount=Decimal("1000000"),
        )
    return rows


def totals(rows) -> dict:
    def total(kind, sign=0):
        return sum(
            (t.amount for t in rows if t.type == kind and t.amount * sign >= 0), Decimal("0")
        )

    income, expense = total("INCOME"), total("EXPENSE")
    return {
        "income": f"{income:.2f}",
        "expense": f"{expense:.2f}",
        "balance": f"{income + expense:.2f}",
        "transfers_in": f"{total('TRANSFER', 1):.2f}",
        "transfers_out": f"{total('TRANSFER', -1):.2f}",
        "count": len(rows),
    }


def test_the_random_ledger_has_every_kind_of_row(random_ledger):
    assert {t.type for t in random_ledger} == {"INCOME", "EXPENSE", "TRANSFER"}
    assert len({t.ledger_id for t in random_ledger}) == 2
    assert len({t.category_id for t in random_ledger}) == 6
    body = totals(random_ledger)
    assert Decimal(body["transfers_in"]) > 0 > Decimal(body["transfers_out"])
    # Some transfers leave for a ledger the user is not in: out is more than in.
    assert Decimal(body["transfers_in"]) != -Decimal(body["transfers_out"])


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


def test_summary_applies_the_ledger_account_and_status_filters(auth_client, user, random_ledger):
    for ledger_id in {t.ledger_id for t in random_ledger}:
        expected = [t for t in random_ledger if t.ledger_id == ledger_id]
        assert auth_client.get(SUMMARY, {"ledger": ledger_id}).json() == totals(expected)
    savings = [t for t in random_ledger if t.account.name == "Savings"]
    account_id = savings[0].account_id
    assert auth_client.get(SUMMARY, {"account": account_id}).json() == totals(savings)
    assert auth_client.get(SUMMARY, {"status": "pending"}).json() == totals(random_ledger)
    assert auth_client.get(SUMMARY, {"status": "cleared"}).json() == totals([])
    assert auth_client.get(SUMMARY, {"type": "TRANSFER"}).json() == totals(
        [t for t in random_ledger if t.type == "TRANSFER"]
    )


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
    "summary",
    [selectors.summary_total, selectors.summary_monthly, selectors.summary_by_category],
    ids=["total", "monthly", "by-category"],
)
def test_a_summary_of_the_rollups_equals_the_transactions(random_ledger, user, other_user, summary):
    # Every user's own: the rollups are scoped as the transactions are.
    for owner in (user, other_user, UserFactory()):
        expected = summary(transactions=selectors.transactions_for(user=owner))
        assert summary(transactions=selectors.RollupSet(owner)) == expected
        # The same types: Decimal, int, str.
        assert str(summary(transactions=selectors.RollupSet(owner))) == str(expected)


def test_an_empty_ledger_sums_to_zero(auth_client):
    assert auth_client.get(SUMMARY).json() == {
        "income": "0.00",
        "expense": "0.00",
        "balance": "0.00",
        "transfers_in": "0.00",
        "transfers_out": "0.00",
        "count": 0,
    }
    assert auth_client.get(MONTHLY).json() == []
    assert auth_client.get(BY_CATEGORY).json() == []


def test_bad_filters_are_400(auth_client):
    assert auth_client.get(MONTHLY, {"date_after": "never"}).status_code == 400


@pytest.mark.parametrize("url", [SUMMARY, MONTHLY, BY_CATEGORY])
def test_summaries_read_the_rollups_in_one_query(
    auth_client, random_ledger, url, django_assert_num_queries, settings
):
    settings.CASHMAN_LEDGER_CACHE_SECONDS = 0  # each request reads the memberships
    # The user behind the token, their ledgers, and the rollups: whole months in one statement;
    # a range that cuts months adds one for the days of the months it cuts.
    with django_assert_num_queries(3) as queries:
        assert auth_client.get(url, {"date_after": "2020-01-01"}).status_code == 200
    assert "ledger_monthtotal" in queries.captured_queries[-1]["sql"]
    assert "ledger_transaction" not in queries.captured_queries[-1]["sql"]
    with django_assert_num_queries(4) as queries:
        assert auth_client.get(url, {"date_after": "2020-01-15"}).status_code == 200
    assert "ledger_daytotal" in queries.captured_queries[-1]["sql"]
    # A search needs the transactions themselves.
    with django_assert_num_queries(3) as queries:
        assert auth_client.get(url, {"search": "a"}).status_code == 200
    assert "ledger_transaction" in queries.captured_queries[-1]["sql"]


def test_large_sums_keep_every_cent(auth_client, user):
    for _ in range(30):
        TransactionFactory(
            owner=user, type=TransactionType.INCOME, amount=Decimal("999999999999.99")
        )
    TransactionFactory(owner=user, type=TransactionType.EXPENSE, amount=Decimal("0.01"))
    body = auth_client.get(SUMMARY).json()
    assert body["income"] == "29999999999999.70"
    assert body["balance"] == "29999999999999.69"

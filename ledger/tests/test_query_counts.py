"""Query counts: the statements each list, summary, detail and create request runs, cold and
warm, whatever the size of the ledger, and the JSON 404 of a page past the end."""

import datetime

import pytest
from django.urls import reverse

from ledger.choices import Role
from ledger.models import Transaction
from ledger.tests.factories import (
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
)

pytestmark = pytest.mark.django_db

TRANSACTIONS = reverse("api:transaction-list")
EXPENSES = reverse("api:expense-list")
SUMMARY = reverse("api:summary-list")
MONTHLY = reverse("api:summary-monthly")
BY_CATEGORY = reverse("api:summary-by-category")
CATEGORIES = reverse("api:category-list")


def detail(tx) -> str:
    return reverse("api:transaction-detail", args=[tx.pk])


class TestQueryCounts:
    """Queries per request, whatever the size of the ledger and however many ledgers the user is
    in (JWT: one for the user; one for their memberships, the scope's ledgers, where a request
    reads rows through a list of them: cached with the ledger cache on)."""

    @pytest.fixture
    def ledger(self, user, make_tx):
        food = CategoryFactory(owner=user)
        for i in range(60):
            make_tx(category=food if i % 2 else None, date=datetime.date(2026, 1 + i % 12, 1))
        return food

    @pytest.mark.parametrize(
        "url, cold, warm",
        [
            # user, memberships, COUNT, page; then the memberships and the COUNT come from the
            # cache
            (TRANSACTIONS, 4, 2),
            # user, memberships, the rollups; then the answer comes from the cache
            (SUMMARY, 3, 1),
            (MONTHLY, 3, 1),
            (BY_CATEGORY, 3, 1),
            # user, memberships, page: one short page needs no COUNT
            (CATEGORIES, 3, 2),
        ],
    )
    def test_reads(
        self, auth_client, ledger, ledger_cache, django_assert_num_queries, url, cold, warm
    ):
        with django_assert_num_queries(cold):
            assert auth_client.get(url).status_code == 200
        with django_assert_num_queries(warm):
            assert auth_client.get(url).status_code == 200

    def test_filtered_list(self, auth_client, ledger, django_assert_num_queries):
        params = {"date_after": "2026-03-01", "search": "trans", "category": ledger.pk}
        # user, memberships, the category filter's lookup, page: 25 rows, one short page, so no
        # COUNT
        with django_assert_num_queries(4):
            assert auth_client.get(TRANSACTIONS, params).json()["count"] == 25

    def test_a_filtered_list_longer_than_a_page_is_counted(
        self, auth_client, ledger, django_assert_num_queries
    ):
        params = {"search": "trans", "page_size": 20}
        with django_assert_num_queries(4):  # user, memberships, page, COUNT
            body = auth_client.get(TRANSACTIONS, params).json()
        assert body["count"] == 60 and len(body["results"]) == 20 and body["next"]

    def test_a_later_page_is_counted_first(self, auth_client, ledger, django_assert_num_queries):
        with django_assert_num_queries(4):  # user, memberships, COUNT, page
            body = auth_client.get(TRANSACTIONS, {"page": 2}).json()
        assert body["count"] == 60 and len(body["results"]) == 10
        assert body["next"] is None and body["previous"]

    @pytest.mark.parametrize("page", ["3", str(10**40)])
    def test_a_page_past_the_end_is_a_json_404(self, auth_client, ledger, page):
        response = auth_client.get(TRANSACTIONS, {"page": page})
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid page."}

    def test_detail(self, auth_client, ledger, django_assert_num_queries):
        tx = Transaction.objects.filter(category=ledger).first()
        with django_assert_num_queries(3):  # user, memberships, the row
            assert auth_client.get(detail(tx)).status_code == 200

    def test_create(self, auth_client, ledger, django_assert_num_queries):
        # The user, the default account (no account given: the personal ledger's first open
        # one), then in one atomic block (a savepoint inside the test's transaction) the row,
        # its history record and the UPDATE raising the generation of the ledger's members; the
        # rules are checked without queries.
        with django_assert_num_queries(7):
            response = auth_client.post(EXPENSES, {"description": "x", "amount": "1"})
        assert response.status_code == 201

    def test_create_in_a_named_account(self, auth_client, user, ledger, django_assert_num_queries):
        # The user, memberships (the account must be one of theirs, in a ledger they write),
        # the account, then the same atomic block as above.
        account = SharedLedgerFactory(owner=user).accounts.get()
        body = {"description": "x", "amount": "1", "account": account.pk, "category": None}
        with django_assert_num_queries(8):
            response = auth_client.post(EXPENSES, body)
        assert response.status_code == 201
        assert response.json()["account"] == account.pk


class TestQueryCountsAcrossLedgers:
    """The same counts for a user in many ledgers with rows in each: the ledgers are read once,
    never once per ledger or per row."""

    @pytest.fixture
    def ledgers(self, user, other_user):
        food = CategoryFactory(owner=user)
        for n in range(5):
            household = SharedLedgerFactory(owner=other_user if n % 2 else user)
            if n % 2:
                add_member(household, user, Role.EDITOR if n == 1 else Role.VIEWER)
            account = household.accounts.get()
            for i in range(12):
                TransactionFactory(account=account, date=datetime.date(2026, 1 + i, 1))
        for i in range(12):
            TransactionFactory(owner=user, category=food, date=datetime.date(2026, 1 + i, 1))
        return food

    @pytest.mark.parametrize(
        "url, params, count",
        [
            (TRANSACTIONS, {}, 4),  # user, memberships, COUNT, page
            # user, memberships, the ledger filter's lookup, page (one short page: no COUNT)
            (TRANSACTIONS, {"ledger": "first"}, 4),
            (SUMMARY, {}, 3),  # user, memberships, the rollups
            (MONTHLY, {}, 3),
            (BY_CATEGORY, {}, 3),
            # user, memberships, the ledger filter's lookup, the rollups
            (SUMMARY, {"ledger": "first"}, 4),
            (SUMMARY, {"search": "trans"}, 3),  # user, memberships, the aggregate
            (CATEGORIES, {}, 3),  # user, memberships, page
        ],
    )
    def test_reads(self, auth_client, user, ledgers, django_assert_num_queries, url, params, count):
        if params.get("ledger") == "first":
            params = {"ledger": user.memberships.order_by("id").last().ledger_id}
        with django_assert_num_queries(count):
            response = auth_client.get(url, params)
        assert response.status_code == 200

    def test_every_ledger_is_listed(self, auth_client, user, ledgers):
        assert auth_client.get(TRANSACTIONS).json()["count"] == 72
        assert auth_client.get(SUMMARY).json()["count"] == 72

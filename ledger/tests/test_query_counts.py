"""Query counts: the statements each list, summary, detail and create request runs, cold and
warm, whatever the size of the ledger, and the JSON 404 of a page past the end."""

import datetime

import pytest
from django.urls import reverse

from ledger.models import Transaction
from ledger.tests.factories import CategoryFactory

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
    """Queries per request, whatever the size of the ledger (JWT: one for the user)."""

    @pytest.fixture
    def ledger(self, user, make_tx):
        food = CategoryFactory(owner=user)
        for i in range(60):
            make_tx(category=food if i % 2 else None, date=datetime.date(2026, 1 + i % 12, 1))
        return food

    @pytest.mark.parametrize(
        "url, cold, warm",
        [
            (TRANSACTIONS, 3, 2),  # user, COUNT, page; then the COUNT comes from the cache
            (SUMMARY, 2, 1),
            (MONTHLY, 2, 1),
            (BY_CATEGORY, 2, 1),
            (CATEGORIES, 2, 2),  # user, page: one short page needs no COUNT
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
        # user, the category filter's lookup, page: 25 rows, one short page, so no COUNT
        with django_assert_num_queries(3):
            assert auth_client.get(TRANSACTIONS, params).json()["count"] == 25

    def test_a_filtered_list_longer_than_a_page_is_counted(
        self, auth_client, ledger, django_assert_num_queries
    ):
        params = {"search": "trans", "page_size": 20}
        with django_assert_num_queries(3):  # user, page, COUNT
            body = auth_client.get(TRANSACTIONS, params).json()
        assert body["count"] == 60 and len(body["results"]) == 20 and body["next"]

    def test_a_later_page_is_counted_first(self, auth_client, ledger, django_assert_num_queries):
        with django_assert_num_queries(3):  # user, COUNT, page
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
        with django_assert_num_queries(2):
            assert auth_client.get(detail(tx)).status_code == 200

    def test_create(self, auth_client, ledger, django_assert_num_queries):
        # The user, then in one atomic block (a savepoint inside the test's transaction) the
        # row, its history record and the UPDATE raising the user's ledger generation; the
        # rules are checked without queries.
        with django_assert_num_queries(6):
            response = auth_client.post(EXPENSES, {"description": "x", "amount": "1"})
        assert response.status_code == 201

"""Keyset pages of the transaction lists (`?cursor=`): the same rows as page numbers give, in the
same order, for every ordering and filter; stable while rows are added; strict about cursors."""

import base64
import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cashman_site import keyset
from ledger.choices import Role, TransactionType
from ledger.tests.factories import SharedLedgerFactory, TransactionFactory, add_member

pytestmark = pytest.mark.django_db

TRANSACTIONS = reverse("api:transaction-list")
DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def ledger(user, make_tx):
    """17 rows with ties everywhere: four dates, three amounts, both types."""
    rows = []
    for n in range(17):
        rows.append(
            make_tx(
                type=TransactionType.INCOME if n % 5 == 0 else TransactionType.EXPENSE,
                amount=Decimal(("7.50", "20.00", "7.50")[n % 3]),
                date=DAY + datetime.timedelta(days=n % 4),
                description="coffee" if n % 2 else "rent",
            )
        )
    return rows


def ids(answer) -> list[int]:
    return [row["id"] for row in answer.json()["results"]]


def numbered(client, query: dict) -> list[int]:
    """Every row of the list by page numbers, in order."""
    answer = client.get(TRANSACTIONS, {**query, "page_size": 200})
    assert answer.status_code == 200
    return ids(answer)


def joined(pages: list[list[int]]) -> list[int]:
    return [row for page in pages for row in page]


def walk(client, query: dict, *, size: int = 3) -> list[list[int]]:
    """The keyset pages from the first, following `next` links."""
    pages, url, params = [], TRANSACTIONS, {**query, "cursor": "", "page_size": size}
    while url:
        answer = client.get(url, params)
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert "count" not in body
        pages.append(ids(answer))
        url, params = body["next"], None
    return pages


ORDERINGS = [{}, {"ordering": "date"}, {"ordering": "amount"}, {"ordering": "-amount"},
             {"ordering": "-created_at"}, {"ordering": "date,-amount"}]  # fmt: skip


class TestTheSameRowsAsPageNumbers:
    @pytest.mark.parametrize("query", ORDERINGS)
    def test_forwards_for_every_ordering(self, auth_client, ledger, query):
        pages = walk(auth_client, query)
        assert [len(page) for page in pages] == [3, 3, 3, 3, 3, 2]
        assert joined(pages) == numbered(auth_client, query)

    @pytest.mark.parametrize("query", ORDERINGS)
    def test_backwards_from_the_last_page(self, auth_client, ledger, query):
        forwards = walk(auth_client, query)
        last = auth_client.get(TRANSACTIONS, {**query, "cursor": "", "page_size": 3})
        url = last.json()["next"]
        while (body := auth_client.get(url).json())["next"]:
            url = body["next"]
        backwards = [ids(auth_client.get(url))]
        while url := auth_client.get(url).json()["previous"]:
            backwards.append(ids(auth_client.get(url)))
        assert backwards[::-1] == forwards

    def test_with_filters(self, auth_client, ledger):
        query = {"type": "EXPENSE", "search": "coffee", "ordering": "amount"}
        pages = walk(auth_client, query, size=2)
        assert joined(pages) == numbered(auth_client, query)
        assert len(joined(pages)) == 6  # odd n, less the incomes 5 and 15

    def test_incomes_and_expenses_have_them_too(self, auth_client, ledger):
        for name, size in (("api:income-list", 4), ("api:expense-list", 13)):
            answer = auth_client.get(reverse(name), {"cursor": "", "page_size": 50})
            assert len(ids(answer)) == size
            assert answer.json()["next"] is None

    def test_the_first_page_has_no_previous_and_the_last_no_next(self, auth_client, ledger):
        first = auth_client.get(TRANSACTIONS, {"cursor": "", "page_size": 20}).json()
        assert first["previous"] is None and first["next"] is None
        assert len(first["results"]) == 17

    @pytest.mark.parametrize("query", [{}, {"ordering": "amount"}, {"ledger": "HOUSEHOLD"}])
    def test_across_ledgers(self, auth_client, user, other_user, ledger, query):
        """Rows of the user's own ledger and of a household they view, with the same keys."""
        household = SharedLedgerFactory(owner=other_user)
        add_member(household, user, Role.VIEWER)
        for n in range(7):
            TransactionFactory(
                account=household.accounts.get(),
                amount=Decimal(("7.50", "20.00")[n % 2]),
                date=DAY + datetime.timedelta(days=n % 4),
            )
        if query.get("ledger"):
            query = {"ledger": household.pk}
        pages = walk(auth_client, query, size=4)
        assert joined(pages) == numbered(auth_client, query)
        assert len(joined(pages)) == (7 if query.get("ledger") else 24)

    def test_an_empty_list(self, auth_client):
        body = auth_client.get(TRANSACTIONS, {"cursor": ""}).json()
        assert body == {"next": None, "previous": None, "results": []}


class TestStableWhileRowsChange:
    def test_a_row_added_at_the_top_does_not_shift_the_next_page(
        self, auth_client, ledger, make_tx
    ):
        first = auth_client.get(TRANSACTIONS, {"cursor": "", "page_size": 5}).json()
        make_tx(date=DAY + datetime.timedelta(days=30))  # newest: it would be row 1
        second = auth_client.get(first["next"]).json()
        expected = numbered(auth_client, {})[6:11]  # past the new row and the first page
        assert [row["id"] for row in second["results"]] == expected

    def test_the_rows_of_a_page_deleted_leave_links_from_its_cursor(self, auth_client, ledger):
        first = auth_client.get(TRANSACTIONS, {"cursor": "", "page_size": 16}).json()
        auth_client.delete(reverse("api:transaction-detail", args=[ledger_last(auth_client)]))
        empty = auth_client.get(first["next"]).json()
        assert empty["results"] == [] and empty["next"] is None
        back = auth_client.get(empty["previous"], {"page_size": 16}).json()
        assert [row["id"] for row in back["results"]] == [r["id"] for r in first["results"]]


def ledger_last(client) -> int:
    return numbered(client, {})[-1]


class TestCursorsAreChecked:
    def cursor(self, ordering, values, backwards=False) -> str:
        payload = {"o": ordering, "v": values, "b": backwards}
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()

    @pytest.mark.parametrize(
        "raw",
        [
            "not a cursor",
            "%%%",
            base64.urlsafe_b64encode(b"[1, 2]").decode(),
            base64.urlsafe_b64encode(b'{"o": ["-date", "-id"]}').decode(),
            # Nested past the JSON parser's depth, and still under the query-string limit.
            base64.urlsafe_b64encode(b"[" * 2900).decode(),
        ],
    )
    def test_garbage_is_a_json_404(self, auth_client, ledger, raw):
        answer = auth_client.get(TRANSACTIONS, {"cursor": raw})
        assert answer.status_code == 404
        assert answer.json() == {"detail": "Invalid cursor."}

    @pytest.mark.parametrize(
        "ordering, values",
        [
            (["-date", "-id"], ["2026-13-01", 5]),  # no such date
            (["-date", "-id"], ["2026-03-01", "x"]),  # no id
            (["-date", "-id"], ["2026-03-01", 10**30]),  # past any id
            (["-date", "-id"], ["2026-03-01"]),  # a key short
            (["-date", "-id"], [["2026-03-01"], 5]),  # not a value
            (["-date", "-id"], {"2026-03-01": 0, "5": 1}),  # keys are not a list of values
            (["-date", "-id"], [None, 5]),
            (["-date", "-id"], [True, 5]),
            (["amount", "id"], ["NaN", 5]),
            (["amount", "id"], ["1e400", 5]),  # more digits than an amount has
            (["-created_at", "-id"], ["2026-03-01T10:00:00", 5]),  # no offset
            (["date", "id"], ["2026-03-01", 5]),  # made for another ordering
        ],
    )
    def test_values_that_do_not_parse_are_a_json_404(self, auth_client, ledger, ordering, values):
        query = {"ordering": "amount"} if ordering[0] == "amount" else {}
        if ordering[0] == "-created_at":
            query = {"ordering": "-created_at"}
        answer = auth_client.get(TRANSACTIONS, {**query, "cursor": self.cursor(ordering, values)})
        assert answer.status_code == 404
        assert answer.json() == {"detail": "Invalid cursor."}

    def test_a_cursor_gives_only_the_users_own_rows(self, auth_client, other_client, ledger):
        mine = auth_client.get(TRANSACTIONS, {"cursor": "", "page_size": 2}).json()
        theirs = other_client.get(mine["next"])
        assert theirs.status_code == 200
        assert theirs.json()["results"] == []

    def test_page_is_ignored_beside_a_cursor(self, auth_client, ledger):
        answer = auth_client.get(TRANSACTIONS, {"cursor": "", "page": 99, "page_size": 5})
        assert answer.status_code == 200
        assert ids(answer) == numbered(auth_client, {})[:5]
        assert "page=" not in answer.json()["next"]


class TestTheCursor:
    def test_it_round_trips_every_key_type(self, user, make_tx):
        from ledger.models import Transaction

        tx = make_tx(amount=Decimal("1234.56"))
        ordering = ("-created_at", "amount", "date", "-id")
        values = keyset.key_of(Transaction.objects.get(pk=tx.pk), ordering)
        raw = keyset.encode(ordering, keyset.Cursor(values, True))
        assert keyset.decode(raw, Transaction, ordering) == keyset.Cursor(values, True)
        assert "=" not in raw

    def test_an_ordering_must_end_with_the_id(self):
        from ledger.models import Transaction

        with pytest.raises(ValueError, match="ends with 'id'"):
            keyset.ordering_of(Transaction.objects.order_by("-date"))
        assert keyset.ordering_of(Transaction.objects.order_by("date", "-pk")) == ("date", "-id")


class TestQueries:
    @pytest.mark.parametrize("cache_seconds", [0, 300], ids=["no-cache", "ledger-cache"])
    def test_a_deep_page_is_one_query_after_the_user_and_their_ledgers_and_counts_nothing(
        self, auth_client, ledger, settings, cache_seconds
    ):
        settings.CASHMAN_LEDGER_CACHE_SECONDS = cache_seconds
        url = auth_client.get(TRANSACTIONS, {"cursor": "", "page_size": 3}).json()["next"]
        url = auth_client.get(url).json()["next"]
        with CaptureQueriesContext(connection) as queries:
            answer = auth_client.get(url)
        assert answer.status_code == 200
        statements = [q["sql"] for q in queries.captured_queries]
        # The user, their memberships (once per request: the scope's ledgers; from the ledger
        # cache once read at this generation), the page.
        memberships = [sql for sql in statements if "ledger_membership" in sql]
        assert len(memberships) == (0 if cache_seconds else 1)
        assert len(statements) == 2 + len(memberships)
        assert not any("COUNT(" in sql.upper() for sql in statements)
        # The first key's bound stands on its own, so the index range can start there.
        page = statements[-1].replace('"', "")
        assert "ledger_transaction.date <= " in page


def test_the_schema_documents_the_cursor(client):
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    listed = schema["paths"]["/api/v1/transactions/"]["get"]
    assert "cursor" in [parameter["name"] for parameter in listed["parameters"]]
    categories = schema["paths"]["/api/v1/categories/"]["get"]
    assert "cursor" not in [parameter["name"] for parameter in categories["parameters"]]


def test_the_browsable_api_links_the_pages(auth_client, ledger):
    answer = auth_client.get(TRANSACTIONS, {"cursor": "", "page_size": 5}, HTTP_ACCEPT="text/html")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'class="pager"' in html
    assert "?cursor=" in html and "page_size=5" in html

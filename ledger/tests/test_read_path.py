"""The fast read path: plain-value serialisation equal to the serializer's, the cached summaries
and list counts (never hiding a write, whatever path it takes), and the queries each endpoint runs."""

import datetime
import json
import pickle
import zoneinfo
from decimal import Decimal

import pytest
from django.core.cache import cache as ledger_cache_backend
from django.db import connection
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from cashman_site.statements import ShapedStatements
from ledger import cache, selectors, services
from ledger.choices import TransactionType
from ledger.models import Transaction
from ledger.serializers import (
    CategorySummarySerializer,
    MonthlySummarySerializer,
    SummarySerializer,
    TransactionSerializer,
    transaction_representation,
)
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db

TRANSACTIONS = reverse("api:transaction-list")
EXPENSES = reverse("api:expense-list")
INCOMES = reverse("api:income-list")
SUMMARY = reverse("api:summary-list")
MONTHLY = reverse("api:summary-monthly")
BY_CATEGORY = reverse("api:summary-by-category")
CATEGORIES = reverse("api:category-list")


def detail(tx) -> str:
    return reverse("api:transaction-detail", args=[tx.pk])


def fields_representation(tx: Transaction) -> dict:
    """What DRF's own field-by-field serialisation gives (the fast path must equal it)."""
    return dict(serializers.ModelSerializer.to_representation(TransactionSerializer(), tx))


@pytest.fixture
def ledger_cache(settings):
    settings.CASHMAN_LEDGER_CACHE_SECONDS = 300


@pytest.fixture
def varied(user, make_tx):
    food = CategoryFactory(owner=user, name="Food")
    return [
        make_tx(amount=Decimal("0.01"), category=food),
        make_tx(type=TransactionType.INCOME, amount=Decimal("9999999999.99")),
        make_tx(amount=Decimal("20"), description="Café ünïcode", date=datetime.date(1999, 12, 31)),
    ]


class TestRepresentation:
    @pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
    def test_it_equals_the_serializer_fields_output(self, varied, zone):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            for tx in Transaction.objects.select_related("category"):
                assert TransactionSerializer(tx).data == fields_representation(tx)

    @pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
    @pytest.mark.parametrize(
        "instant",
        [
            datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
            datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),  # no microseconds
            datetime.datetime(2026, 7, 1, 0, 0, 0, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")),
            # Paris then kept local mean time, 9 min 21 s ahead: an offset with seconds.
            datetime.datetime(1850, 1, 1, 12, 0, tzinfo=datetime.UTC),
        ],
        ids=["micro", "whole-second", "from-tokyo", "offset-with-seconds"],
    )
    def test_timestamps_are_written_as_drfs_datetime_field_writes_them(self, zone, instant):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            expected = serializers.DateTimeField().to_representation(instant)
            row = {
                "id": 1,
                "type": TransactionType.EXPENSE,
                "description": "d",
                "amount": Decimal("-1.00"),
                "date": datetime.date(2026, 1, 2),
                "category_id": None,
                "category__name": None,
                "created_at": instant,
                "updated_at": None,
            }
            assert transaction_representation(row)["created_at"] == expected
            assert transaction_representation(row)["updated_at"] is None

    def test_list_rows_equal_the_detail_answers(self, auth_client, varied):
        rows = auth_client.get(TRANSACTIONS).json()["results"]
        assert len(rows) == 3
        for row in rows:
            assert (
                auth_client.get(reverse("api:transaction-detail", args=[row["id"]])).json() == row
            )

    def test_a_create_answers_the_stored_row(self, auth_client):
        body = {"description": "Lunch", "amount": 12.5, "date": "2026-11-02"}
        created = auth_client.post(EXPENSES, body).json()
        assert created["amount"] == "-12.50"
        assert auth_client.get(reverse("api:transaction-detail", args=[created["id"]])).json() == (
            created
        )


def page_of(response) -> tuple[int, int | None, list | None]:
    body = response.json()
    return response.status_code, body.get("count"), body.get("results")


class TestListStatements:
    """The list reads through statements compiled once (cashman_site.statements): without
    filters, per type and ordering (`selectors.TransactionRows`); with filters, per filters
    given (`selectors.FilteredTransactionRows`). Both must answer what the queryset does:
    `amount_min=0` keeps every row, and with `orm_only` the queryset itself answers."""

    @pytest.fixture
    def mixed(self, user, other_user, make_tx):
        food = CategoryFactory(owner=user, name="Food")
        for i in range(9):  # 5 incomes and 4 expenses: two pages of 3 of each
            make_tx(
                type=TransactionType.INCOME if i % 2 == 0 else TransactionType.EXPENSE,
                amount=Decimal(f"{(i * 37) % 11 + 1}.{i}5"),
                description=f"Coffee {i}" if i % 4 else f"Rent {i}",
                date=datetime.date(2026, 1 + i % 3, 1),  # ties on the date: the id decides
                category=food if i % 3 else None,
            )
        TransactionFactory(owner=other_user, description="Coffee not yours")
        return food

    @pytest.mark.parametrize("url", [TRANSACTIONS, INCOMES, EXPENSES])
    @pytest.mark.parametrize(
        "ordering", [None, "amount", "-amount", "date,created_at", "-created_at", "bogus"]
    )
    @pytest.mark.parametrize("page", [1, 2, 9])
    def test_unfiltered_pages_are_the_querysets(
        self, auth_client, mixed, monkeypatch, url, ordering, page
    ):
        params = {"page_size": 3, "page": page, **({"ordering": ordering} if ordering else {})}
        unfiltered = page_of(auth_client.get(url, params))
        filtered = page_of(auth_client.get(url, {**params, "amount_min": "0"}))
        monkeypatch.setattr(ShapedStatements, "statement", lambda *args, **kwargs: None)
        orm = page_of(auth_client.get(url, {**params, "amount_min": "0"}))
        assert unfiltered == filtered == orm
        if page == 9:
            assert orm[0] == 404
        else:
            assert orm[0] == 200 and orm[1] > 0 and "not yours" not in str(orm[2])

    @pytest.mark.parametrize(
        "filters",
        [
            {"search": "coffee"},
            {"search": "COFFEE 3"},
            {"search": "100%_"},  # LIKE's wildcards, escaped
            {"date_after": "2026-02-01", "date_before": "2026-02-28"},
            {"date_after": "2026-02-01", "search": "rent", "ordering": "amount"},
            {"type": "INCOME", "amount_min": "3"},
            {"amount_max": "5.5", "ordering": "-created_at"},
            {"category": "none"},
            {"category": "FOOD"},  # filled in with the category's id below
            {"category": "FOOD", "search": "coffee", "page": 2},
        ],
    )
    def test_filtered_pages_are_the_querysets(self, auth_client, mixed, monkeypatch, filters):
        params = {"page_size": 3, **filters}
        if params.get("category") == "FOOD":
            params["category"] = mixed.pk
        # Twice: the second request runs the statements the first one made.
        first, second = (page_of(auth_client.get(TRANSACTIONS, params)) for _ in range(2))
        monkeypatch.setattr(ShapedStatements, "statement", lambda *args, **kwargs: None)
        assert first == second == page_of(auth_client.get(TRANSACTIONS, params))
        assert "not yours" not in str(first)

    def test_the_same_filters_with_other_values(self, auth_client, mixed, orm_only_answers):
        for search in ["coffee", "rent", "coffee 5", "nothing like it"]:
            params = {"search": search, "date_after": "2026-01-01"}
            assert page_of(auth_client.get(TRANSACTIONS, params)) == orm_only_answers(params)

    def test_each_user_with_the_same_filters(
        self, auth_client, other_client, mixed, orm_only_answers
    ):
        params = {"search": "coffee"}
        mine = page_of(auth_client.get(TRANSACTIONS, params))
        theirs = page_of(other_client.get(TRANSACTIONS, params))
        assert (mine[1], theirs[1]) == (6, 1)
        assert theirs == orm_only_answers(params, client=other_client)

    def test_an_empty_ledger(self, auth_client, other_user, make_tx):
        TransactionFactory(owner=other_user)
        assert auth_client.get(TRANSACTIONS).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }

    @pytest.fixture
    def orm_only_answers(self, auth_client, monkeypatch):
        def answer(params, client=auth_client):
            with monkeypatch.context() as patch:
                patch.setattr(ShapedStatements, "statement", lambda *args, **kwargs: None)
                return page_of(client.get(TRANSACTIONS, params))

        return answer


class TestSummaryRepresentation:
    """Summaries are serialised from the selectors' rows directly; the answer must be what the
    summary serializers would give, key order included."""

    @pytest.mark.parametrize(
        ("url", "selector", "serializer"),
        [
            (SUMMARY, selectors.summary_total, SummarySerializer),
            (MONTHLY, selectors.summary_monthly, MonthlySummarySerializer),
            (BY_CATEGORY, selectors.summary_by_category, CategorySummarySerializer),
        ],
    )
    def test_it_equals_the_serializers_output(
        self, auth_client, user, varied, make_tx, url, selector, serializer
    ):
        make_tx(amount=Decimal("0.10"), date=datetime.date(1999, 12, 1))  # two rows in one month
        rows = selector(transactions=Transaction.objects.filter(owner=user))
        many = isinstance(rows, list)
        expected = json.loads(JSONRenderer().render(serializer(rows, many=many).data))
        response = auth_client.get(url)
        assert response.status_code == 200
        answer = response.json()
        assert answer == expected
        got_rows, want_rows = (answer, expected) if many else ([answer], [expected])
        assert [list(row) for row in got_rows] == [list(row) for row in want_rows]


def summary(client) -> dict:
    return client.get(SUMMARY).json()


class TestCachedReads:
    def test_a_repeated_summary_does_not_touch_the_transactions_table(
        self, auth_client, make_tx, ledger_cache
    ):
        make_tx(amount=Decimal("5"))
        for url in (SUMMARY, MONTHLY, BY_CATEGORY):
            first = auth_client.get(url).json()
            with CaptureQueriesContext(connection) as queries:
                again = auth_client.get(url).json()
            assert again == first
            assert not [q for q in queries if "ledger_transaction" in q["sql"]], url
            assert len(queries) == 1  # the user behind the token

    def test_filters_are_part_of_the_key(self, auth_client, make_tx, ledger_cache):
        make_tx(amount=Decimal("5"), date=datetime.date(2026, 1, 5))
        make_tx(amount=Decimal("7"), date=datetime.date(2026, 2, 5))
        assert summary(auth_client)["expense"] == "-12.00"
        february = auth_client.get(SUMMARY, {"date_after": "2026-02-01"}).json()
        assert february["expense"] == "-7.00"

    def test_each_user_has_their_own_cache(self, auth_client, other_client, make_tx, other_user):
        make_tx(amount=Decimal("5"))
        assert summary(auth_client)["count"] == 1
        assert summary(other_client)["count"] == 0
        make_tx(owner=other_user, amount=Decimal("9"))
        assert summary(auth_client)["expense"] == "-5.00"
        assert summary(other_client)["expense"] == "-9.00"

    def test_the_list_count_is_cached_until_a_write(self, auth_client, make_tx, ledger_cache):
        make_tx()
        assert auth_client.get(TRANSACTIONS).json()["count"] == 1
        with CaptureQueriesContext(connection) as queries:
            assert auth_client.get(TRANSACTIONS).json()["count"] == 1
        assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
        auth_client.post(EXPENSES, {"description": "x", "amount": "1"})
        assert auth_client.get(TRANSACTIONS).json()["count"] == 2
        assert auth_client.get(EXPENSES, {"search": "x"}).json()["count"] == 1


def _create(client, user, tx):
    client.post(EXPENSES, {"description": "new", "amount": "3"})


def _put(client, user, tx):
    client.put(detail(tx), {"type": "EXPENSE", "description": "d", "amount": "13"})


def _patch_if_match(client, user, tx):
    client.patch(detail(tx), {"amount": "13"}, HTTP_IF_MATCH=client.get(detail(tx))["ETag"])


def _delete(client, user, tx):
    client.delete(detail(tx))


def _batch(client, user, tx):
    rows = [{"type": "EXPENSE", "description": "b", "amount": "3", "date": "2026-11-01"}]
    assert client.post(reverse("api:transaction-batch"), rows).status_code == 201


def _service_update(client, user, tx):
    services.transaction_update(transaction=tx, data={"amount": Decimal("-13")}, if_version=1)


def _restore(client, user, tx):
    client.delete(detail(tx))
    assert summary(client)["count"] == 1  # the state without it, cached
    record = Transaction.history.filter(id=tx.pk, history_type="-").get()
    assert services.transaction_restore(record=record) is not None


@pytest.mark.parametrize(
    "write", [_create, _put, _patch_if_match, _delete, _batch, _service_update, _restore]
)
def test_no_write_is_hidden_by_the_cache(auth_client, user, make_tx, ledger_cache, write):
    tx = make_tx(amount=Decimal("10"))
    make_tx(amount=Decimal("1"))
    assert auth_client.get(TRANSACTIONS).json()["count"] == 2
    before = (summary(auth_client), auth_client.get(MONTHLY).json())
    assert before == (summary(auth_client), auth_client.get(MONTHLY).json())  # now cached

    write(auth_client, user, tx)

    expected = services_free_totals(user)
    assert summary(auth_client) == expected
    monthly = {row["month"]: row["balance"] for row in auth_client.get(MONTHLY).json()}
    assert monthly == services_free_monthly_balances(user)
    assert auth_client.get(TRANSACTIONS).json()["count"] == expected["count"]


def services_free_totals(user) -> dict:
    """The totals, summed here in Python from the rows (not by the code under test)."""
    amounts = list(Transaction.objects.filter(owner=user).values_list("amount", flat=True))
    income = sum((a for a in amounts if a > 0), Decimal("0"))
    expense = sum((a for a in amounts if a < 0), Decimal("0"))
    return {
        "income": f"{income:.2f}",
        "expense": f"{expense:.2f}",
        "balance": f"{income + expense:.2f}",
        "count": len(amounts),
    }


def services_free_monthly_balances(user) -> dict[str, str]:
    """Each month's balance, summed here in Python from the rows: a create without a date lands
    in today's month, which is the factories' month only on some days."""
    balances: dict[str, Decimal] = {}
    for day, amount in Transaction.objects.filter(owner=user).values_list("date", "amount"):
        month = day.isoformat()[:7]
        balances[month] = balances.get(month, Decimal("0")) + amount
    return {month: f"{balance:.2f}" for month, balance in balances.items()}


def test_an_import_is_not_hidden_by_the_cache(auth_client, user, ledger_cache, upload):
    assert summary(auth_client)["count"] == 0
    csv = "date,description,amount\n2026-11-01,Salary,3000\n2026-11-02,Rent,-900\n"
    assert upload(auth_client, csv).status_code == 202
    assert summary(auth_client) == services_free_totals(user) | {"count": 2}


def test_category_changes_reach_the_cached_summary(auth_client, user, make_tx, ledger_cache):
    food = CategoryFactory(owner=user, name="Food")
    make_tx(category=food)
    assert auth_client.get(BY_CATEGORY).json()[0]["category_name"] == "Food"
    url = reverse("api:category-detail", args=[food.pk])
    auth_client.patch(url, {"name": "Groceries"})
    assert auth_client.get(BY_CATEGORY).json()[0]["category_name"] == "Groceries"
    assert auth_client.get(TRANSACTIONS).json()["results"][0]["category_name"] == "Groceries"
    auth_client.delete(url)
    assert auth_client.get(BY_CATEGORY).json()[0]["category"] is None


def generation(user) -> int:
    return type(user).objects.values_list("ledger_generation", flat=True).get(pk=user.pk)


def test_a_write_raises_the_generation_in_its_own_transaction(user, other_user, make_tx):
    tx = make_tx()
    start, others = generation(user), generation(other_user)
    services.transaction_update(transaction=tx, data={"amount": Decimal("-2")}, if_version=None)
    assert generation(user) == start + 1
    with pytest.raises(RuntimeError), db_transaction.atomic():
        services.transaction_delete(transaction=tx, if_version=None, actor=user)
        assert generation(user) == start + 2
        raise RuntimeError("rolled back")
    assert generation(user) == start + 1  # undone with the write it stood for
    assert Transaction.objects.filter(pk=tx.pk).exists()
    assert generation(other_user) == others


def test_a_cached_read_is_at_most_one_cache_lookup(auth_client, make_tx, ledger_cache, monkeypatch):
    """The generation comes with the user row: no ledger cache call but the entry's own (the
    throttles count in the same cache, under keys of their own), and none at all in a worker
    that already holds the entry in memory."""
    make_tx()
    assert summary(auth_client)["count"] == 1
    calls = []

    def spy(name, original):
        def call(key, *args, **kwargs):
            calls.append((name, key.split(":")[0]))
            return original(key, *args, **kwargs)

        return call

    for name in ("get", "set", "add", "delete", "incr"):
        monkeypatch.setattr(
            ledger_cache_backend, name, spy(name, getattr(ledger_cache_backend, name))
        )
    assert summary(auth_client)["count"] == 1
    assert [call for call in calls if call[1] == "ledger"] == []  # this worker stored it
    cache.LOCAL.clear()  # as another worker, which has not read it yet
    assert summary(auth_client)["count"] == 1
    assert [call for call in calls if call[1] == "ledger"] == [("get", "ledger")]


class TestLocalEntries:
    """What each process keeps in front of the shared cache."""

    def test_the_least_recently_used_entries_go_first_to_keep_within_the_budget(self):
        one = len(pickle.dumps(1, pickle.HIGHEST_PROTOCOL)) + len("k00") + cache.ENTRY_BYTES
        local = cache.LocalEntries(max_bytes=16 * one)  # room for sixteen
        keys = [f"k{i:02}" for i in range(17)]
        for key in keys[:16]:
            local.set(key, 1, 60)
        assert local.size == 16 * one
        assert local.get("k00") == 1  # now k01 is the least recently used
        local.set(keys[16], 1, 60)
        assert local.get("k01") is cache._MISSING
        assert all(local.get(key) == 1 for key in keys if key != "k01")
        assert local.size == 16 * one
        local.set("k00", 2, 60)  # replaced, not counted twice
        assert local.size == 16 * one
        assert local.get("k00") == 2

    def test_an_entry_over_a_sixteenth_of_the_budget_is_not_kept(self):
        local = cache.LocalEntries(max_bytes=16 * 1024)
        local.set("big", "x" * 1024, 60)
        local.set("small", "x" * 100, 60)
        assert local.get("big") is cache._MISSING
        assert local.get("small") == "x" * 100

    def test_an_entry_expires_with_its_timeout(self, monkeypatch):
        now = [1000.0]
        monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
        local = cache.LocalEntries(max_bytes=1024 * 1024)
        local.set("a", 1, 60)
        now[0] += 59.9
        assert local.get("a") == 1
        now[0] += 0.1
        assert local.get("a") is cache._MISSING

    def test_each_read_gets_its_own_copy(self):
        local = cache.LocalEntries(max_bytes=1024 * 1024)
        local.set("rows", [{"month": "2026-11", "income": Decimal("1.10")}], 60)
        local.get("rows")[0]["income"] = Decimal("9")
        assert local.get("rows") == [{"month": "2026-11", "income": Decimal("1.10")}]


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

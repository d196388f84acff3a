"""The seed and the floors against a real PostgreSQL (the test database): the seeded rows obey
the model's rules and Cashman serves them, and each floor returns Cashman's rows."""

import datetime

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test import override_settings
from rest_framework.test import APIClient

from bench import floors, seed, sqlcapture
from bench.scenarios import LIST, SUMMARY, create_body, search_query
from conftest import bearer
from ledger.models import Category, Transaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LAYOUT = seed.Layout(users=3, rows_per_user=120, export_rows=300)
TODAY = datetime.date(2026, 11, 29)


@pytest.fixture
def seeded():
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=connection.settings_dict["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    try:
        seed.seed(conn, LAYOUT, today=TODAY)
        yield conn
    finally:
        with conn, conn.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_seed")
        conn.close()


def client_for(user_id: int) -> APIClient:
    from accounts.models import User

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(User.objects.get(pk=user_id)))
    return client


def test_seeded_rows_obey_the_models_rules(seeded):
    assert Transaction.objects.count() == 3 * 120 + 300
    assert Transaction.objects.filter(owner_id=LAYOUT.export_user).count() == 300
    assert not Transaction.objects.filter(owner_id=LAYOUT.import_user).exists()
    for tx in Transaction.objects.select_related("category").order_by("id")[::37]:
        tx.full_clean()  # the sign rule, the description, the category's owner
    assert (
        not Transaction.objects.exclude(category__isnull=True)
        .exclude(category__owner_id=F("owner_id"))
        .exists()
    )
    dates = Transaction.objects.values_list("date", flat=True)
    assert min(dates) >= TODAY - datetime.timedelta(days=seed.DAYS)
    assert max(dates) <= TODAY
    assert Category.objects.filter(owner_id=1).count() == len(seed.CATEGORIES)
    assert seed.is_seeded(seeded, LAYOUT)
    assert not seed.is_seeded(seeded, seed.Layout(3, 121, 300))


def test_cashman_serves_a_seeded_users_ledger(seeded):
    client = client_for(2)
    page = client.get(LIST).json()
    assert page["count"] == 120
    assert len(page["results"]) == 50
    months = client.get(SUMMARY).json()
    assert sum(m["count"] for m in months) == 120
    new = client.post(LIST, {"type": "EXPENSE", "description": "x", "amount": "5"}, format="json")
    assert new.status_code == 201, new.content


@override_settings(CASHMAN_LEDGER_CACHE_SECONDS=0)
@pytest.mark.parametrize("path", [LIST, LIST + search_query(TODAY), SUMMARY])
def test_a_floor_returns_cashmans_rows_for_another_user(seeded, path):
    from accounts.models import User

    capture_user = User.objects.get(pk=3)
    capture, _ = sqlcapture.capture(
        APIClient(), "x", "GET", path, uid=3, token=bearer(capture_user).split()[1]
    )
    mine = client_for(1).get(path).json()
    floor = floors.replay(capture, 1)
    if path.startswith(LIST):
        assert floor["count"] == mine["count"]
        assert [r["id"] for r in floor["rows"]] == [r["id"] for r in mine["results"]]
        assert [f"{r['amount']:.2f}" for r in floor["rows"]] == [
            r["amount"] for r in mine["results"]
        ]
    else:
        assert [r["count"] for r in floor["rows"]] == [m["count"] for m in mine]


def test_the_create_floor_inserts_the_same_row_with_its_history(seeded):
    from accounts.models import User

    body = create_body(TODAY)
    capture, answer = sqlcapture.capture(
        APIClient(),
        "create",
        "POST",
        LIST,
        uid=3,
        token=bearer(User.objects.get(pk=3)).split()[1],
        body=body,
    )
    assert answer.status_code == 201
    result = floors.replay(capture, 2)
    row = Transaction.objects.get(pk=result["id"])
    assert (row.owner_id, row.description, str(row.amount), row.date) == (
        2,
        body["description"],
        "-12.34",
        TODAY,
    )
    assert row.history.count() == 1


@override_settings(CASHMAN_LEDGER_CACHE_SECONDS=0, ROOT_URLCONF="bench.urls")
@pytest.mark.parametrize(
    ("floor", "path", "method"),
    [
        ("list", LIST, "GET"),
        ("list_search", LIST + search_query(TODAY), "GET"),
        ("summary_cold", SUMMARY, "GET"),
        ("create", LIST, "POST"),
    ],
)
def test_the_orm_floor_issues_cashmans_statements_and_answers_the_same(seeded, floor, path, method):
    """The Django-view floor builds its queries with the ORM; they must be Cashman's own, or the
    ratio would compare different work."""
    from accounts.models import User

    body = create_body(TODAY) if method == "POST" else None
    cashman, mine = sqlcapture.capture(
        APIClient(),
        floor,
        method,
        path,
        uid=3,
        token=bearer(User.objects.get(pk=3)).split()[1],
        body=body,
    )
    orm, answer = sqlcapture.capture(
        APIClient(), floor, method, floors.orm_path(path, floor), uid=3, body=body
    )
    assert answer.status_code == mine.status_code
    assert floors.orm_statements_match(cashman, orm), [s.sql for s in orm.statements]
    if floor.startswith("list"):
        assert answer.json()["count"] == mine.json()["count"]
        assert [r["id"] for r in answer.json()["results"]] == [
            r["id"] for r in mine.json()["results"]
        ]
    elif floor == "summary_cold":
        assert [r["count"] for r in answer.json()] == [m["count"] for m in mine.json()]
    else:
        row = Transaction.objects.get(pk=answer.json()["id"])
        assert (row.owner_id, str(row.amount)) == (3, "-12.34")
        # The history row names its author, as Cashman's does (a foreign-key check in the
        # database, part of the work).
        assert [h.history_user_id for h in row.history.all()] == [3]


def test_orm_statements_match_compares_the_sql_in_order():
    one = sqlcapture.Statement("SELECT 1")
    two = sqlcapture.Statement("SELECT 2")
    capture = sqlcapture.Capture("x", "GET", "/", 200, [one, two])
    assert floors.orm_statements_match(
        capture, sqlcapture.Capture("x", "GET", "/", 200, [one, two])
    )
    assert not floors.orm_statements_match(
        capture, sqlcapture.Capture("x", "GET", "/", 200, [two, one])
    )
    assert not floors.orm_statements_match(capture, sqlcapture.Capture("x", "GET", "/", 200, [one]))


def test_deep_pages_numbered_and_keyset_give_the_same_rows(seeded):
    from bench import deep

    results = deep.measure(LAYOUT.export_user, page=3, repeats=1)  # rows 100 to 149 of 300
    assert [row["ordering"] for row in results] == list(deep.ORDERINGS)
    assert all(row["same_rows"] for row in results), results
    assert all(row["numbered"] > 0 and row["keyset"] > 0 for row in results)

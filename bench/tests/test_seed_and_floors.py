"""The seed and the floors against a real PostgreSQL (the test database): the seeded rows obey
the model's rules and Cashman serves them, and each floor returns Cashman's rows.

LAYOUT: users 1..4 in 1 ledger each, the export user 5, the import user 6, then two households
of three (users 7..9 and 10..12) each in 3 ledgers: their own and their household's two (13 and
14; 15 and 16)."""

import datetime
import json
import os
import shutil
import subprocess

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test import override_settings
from rest_framework.test import APIClient

from bench import floors, seed, sqlcapture
from bench.scenarios import LIST, SUMMARY, create_body, load_scenarios, search_query
from conftest import bearer
from ledger import rollups, scope, services
from ledger.choices import Role
from ledger.models import Account, Category, Ledger, Membership, Transaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LAYOUT = seed.Layout(users=4, rows_per_user=120, export_rows=300)
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
    # Households: 40 rows in each personal ledger of their 6 users, 40 in each of 4 shared ones;
    # the growth user has a tenth of the export user's.
    assert Transaction.objects.count() == 4 * 120 + 300 + 6 * 40 + 4 * 40 + 30
    assert Transaction.objects.filter(ledger_id=LAYOUT.export_user).count() == 300
    assert Transaction.objects.filter(ledger_id=LAYOUT.growth_user).count() == 30 == 300 // 10
    # The rollups, filled after the COPY, are the transactions' own.
    assert list(rollups.drift()) == []
    assert not Transaction.objects.filter(ledger_id=LAYOUT.import_user).exists()
    for tx in Transaction.objects.select_related("category", "account").order_by("id")[::37]:
        tx.full_clean()  # the sign rule, the description, the account's and category's ledger
    assert (
        not Transaction.objects.exclude(category__isnull=True)
        .exclude(category__ledger_id=F("ledger_id"))
        .exists()
    )
    assert not Transaction.objects.exclude(account__ledger_id=F("ledger_id")).exists()
    personal = Transaction.objects.filter(ledger__personal_for__isnull=False)
    assert not personal.exclude(created_by_id=F("ledger_id")).exists()
    for ledger in (14, 15, 16, 17):  # a shared ledger's rows are made by its members
        members = set(Membership.objects.filter(ledger=ledger).values_list("user_id", flat=True))
        made_by = set(
            Transaction.objects.filter(ledger=ledger).values_list("created_by_id", flat=True)
        )
        assert made_by == members
    assert set(Transaction.objects.values_list("status", flat=True)) == {"pending"}
    assert not Transaction.objects.filter(transfer__isnull=False).exists()
    dates = Transaction.objects.values_list("date", flat=True)
    assert min(dates) >= TODAY - datetime.timedelta(days=seed.DAYS)
    assert max(dates) <= TODAY
    assert Category.objects.filter(ledger_id=1).count() == len(seed.CATEGORIES)
    assert seed.is_seeded(seeded, LAYOUT)
    assert not seed.is_seeded(seeded, seed.Layout(4, 121, 300))
    # A database seeded before the households (version 2) is seeded again.
    with seeded, seeded.cursor() as cursor:
        old = {k: v for k, v in LAYOUT.marker().items() if "multi" not in k} | {"version": 2}
        cursor.execute("UPDATE bench_seed SET marker = %s", [json.dumps(old)])
    assert not seed.is_seeded(seeded, LAYOUT)


def test_every_user_has_what_signing_up_gives(seeded):
    """What the sign-up signal makes, which COPY does not send: a personal ledger named
    "Personal" that the user owns, with a "Main" account; user u's all of id u."""
    from accounts.models import User

    users = list(User.objects.order_by("pk").values_list("pk", flat=True))
    assert users == list(range(1, LAYOUT.last_user + 1)) == list(range(1, 14))
    personal = Ledger.objects.filter(personal_for__isnull=False).order_by("pk")
    assert list(personal.values_list("pk", "personal_for_id", "name")) == [
        (u, u, services.PERSONAL_LEDGER_NAME) for u in users
    ]
    owners = Membership.objects.filter(pk__lte=LAYOUT.last_user).order_by("pk")
    assert list(owners.values_list("pk", "ledger_id", "user_id")) == [(u, u, u) for u in users]
    assert set(owners.values_list("role", flat=True)) == {Role.OWNER}
    # Every ledger, shared ones too, has its account "Main", of the ledger's id.
    ledgers = list(Ledger.objects.order_by("pk").values_list("pk", flat=True))
    assert ledgers == list(range(1, 18))
    assert list(Account.objects.order_by("pk").values_list("pk", "ledger_id", "name")) == [
        (ledger, ledger, "Main") for ledger in ledgers
    ]
    for account in Account.objects.all():
        account.full_clean()
        assert account.opening_date <= TODAY - datetime.timedelta(days=seed.DAYS)
    # The services find them, and make none of their own.
    user = User.objects.get(pk=2)
    assert services.personal_ledger(user=user).pk == 2
    assert services.default_account(user=user).pk == 2
    assert Ledger.objects.count() == len(users) + 4
    # New users, made afterwards, get ids of their own.
    from accounts.tests.factories import UserFactory

    newcomer = UserFactory()
    assert newcomer.pk == LAYOUT.last_user + 1
    assert services.personal_ledger(user=newcomer).pk > max(ledgers)
    assert services.default_account(user=newcomer).pk > max(ledgers)
    assert (
        Membership.objects.get(user=newcomer).pk
        > Membership.objects.exclude(user=newcomer).latest("pk").pk
    )


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
    else:  # the same months and counts (Cashman orders them, the replay does not)
        replayed = sorted((r["month_start"].isoformat()[:7], r["count"]) for r in floor["rows"])
        assert replayed == sorted((m["month"], m["count"]) for m in mine)


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
    assert (
        row.ledger_id,
        row.account_id,
        row.created_by_id,
        row.description,
        str(row.amount),
        row.date,
    ) == (2, 2, 2, body["description"], "-12.34", TODAY)
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
        assert (row.ledger_id, row.account_id, row.created_by_id, str(row.amount)) == (
            3,
            3,
            3,
            "-12.34",
        )
        # The history row names its author, as Cashman's does (a foreign-key check in the
        # database, part of the work).
        assert [h.history_user_id for h in row.history.all()] == [3]


@override_settings(CASHMAN_LEDGER_CACHE_SECONDS=300, ROOT_URLCONF="bench.urls")
def test_the_orm_floor_of_a_warm_list_reads_what_cashman_reads(seeded):
    """With the cache on, as in the phase that measures it: Cashman reads the user's ledgers and
    the count from its cache; the floor reads the ledgers the same way and skips the count."""
    from accounts.models import User

    token = bearer(User.objects.get(pk=3)).split()[1]
    APIClient().get(LIST, HTTP_AUTHORIZATION=f"Bearer {token}")  # warm, as the capture does
    cashman, mine = sqlcapture.capture(APIClient(), "list_cached", "GET", LIST, uid=3, token=token)
    orm, answer = sqlcapture.capture(
        APIClient(), "list_cached", "GET", floors.orm_path(LIST, "list_cached"), uid=3
    )
    assert (mine.status_code, answer.status_code) == (200, 200)
    assert not any("ledger_membership" in s.sql for s in cashman.statements)
    assert not any(s.is_count for s in cashman.statements)
    assert floors.orm_statements_match(cashman, orm), [s.sql for s in orm.statements]
    assert [r["id"] for r in answer.json()["results"]] == [r["id"] for r in mine.json()["results"]]


@override_settings(CASHMAN_LEDGER_CACHE_SECONDS=0, ROOT_URLCONF="bench.urls")
@pytest.mark.parametrize(
    ("floor", "path"),
    [("list", LIST), ("list_search", LIST + search_query(TODAY)), ("summary_cold", SUMMARY)],
)
def test_the_orm_floor_scopes_by_ledger_as_cashman_does(seeded, floor, path):
    """A member of another user's ledger sees its rows too, in Cashman and in the floor alike,
    by the same statements; and a ledger they left is gone from both."""
    from accounts.models import User

    viewer = User.objects.get(pk=3)
    shared = Ledger.objects.get(pk=2)
    with services.unit_of_work() as unit:
        membership = Membership.objects.create(ledger=shared, user=viewer, role=Role.VIEWER)
        unit.members_changed(viewer.pk)

    def both() -> tuple:
        cashman, mine = sqlcapture.capture(
            APIClient(), floor, "GET", path, uid=3, token=bearer(viewer).split()[1]
        )
        orm, answer = sqlcapture.capture(
            APIClient(), floor, "GET", floors.orm_path(path, floor), uid=3
        )
        assert answer.status_code == mine.status_code == 200
        assert floors.orm_statements_match(cashman, orm), [s.sql for s in orm.statements]
        return mine.json(), answer.json()

    def counted(answer) -> int:
        return answer["count"] if floor.startswith("list") else sum(m["count"] for m in answer)

    mine, theirs = both()
    alone = Transaction.objects.filter(ledger_id=3)
    together = Transaction.objects.filter(ledger_id__in=[2, 3])
    assert counted(mine) == counted(theirs)
    if floor == "summary_cold":
        assert [m["count"] for m in mine] == [m["count"] for m in theirs]
        assert counted(mine) == together.count() == 240
    else:
        assert [r["id"] for r in mine["results"]] == [r["id"] for r in theirs["results"]]
        assert {r["ledger"] for r in mine["results"]} <= {2, 3}
    if floor == "list":
        assert counted(mine) == together.count() == 240
        assert {r["ledger"] for r in theirs["results"]} == {2, 3}

    with services.unit_of_work() as unit:
        unit.members_changed(viewer.pk)
        Membership.objects.filter(pk=membership.pk).delete()
    mine, theirs = both()
    assert counted(mine) == counted(theirs)
    if floor != "list_search":
        assert counted(mine) == alone.count() == 120


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


# --- Users in 3 ledgers (the list_3_ledgers scenario) -------------------------------------------


def test_household_users_are_in_3_ledgers_that_all_hold_rows(seeded):
    """Users 7..12 are each in their personal ledger and their household's two, all with rows,
    about `rows_per_user` in all; the users in 1 ledger are still in exactly 1."""
    from accounts.models import User

    assert list(LAYOUT.multi_user_ids) == list(range(7, 13))
    assert LAYOUT.ledgers_of(7) == [7, 14, 15]  # after the growth user (13)
    assert LAYOUT.ledgers_of(12) == [12, 16, 17]
    for user in range(1, LAYOUT.import_user + 1):
        assert list(Membership.objects.filter(user=user).values_list("ledger_id", flat=True)) == [
            user
        ]
    for user in LAYOUT.multi_user_ids:
        ledgers = LAYOUT.ledgers_of(user)
        assert len(ledgers) == seed.MULTI_LEDGERS == 3
        assert sorted(scope.roles(User.objects.get(pk=user))) == ledgers
        first = user == LAYOUT.household_users(LAYOUT.household_of(user))[0]
        assert scope.roles(User.objects.get(pk=user)) == {
            ledgers[0]: Role.OWNER,
            ledgers[1]: Role.OWNER if first else Role.EDITOR,
            ledgers[2]: Role.OWNER if first else Role.EDITOR,
        }
        counts = [Transaction.objects.filter(ledger=ledger).count() for ledger in ledgers]
        assert counts == [40, 40, 40]
        assert sum(counts) == LAYOUT.rows_per_user
        # Cashman lists the rows of all three.
        page = client_for(user).get(LIST).json()
        assert page["count"] == LAYOUT.rows_per_user
        assert {r["ledger"] for r in page["results"]} == set(ledgers)
    for ledger in (14, 15, 16, 17):
        shared = Ledger.objects.get(pk=ledger)
        assert shared.personal_for_id is None
        assert shared.memberships.count() == seed.HOUSEHOLD
        assert Category.objects.filter(ledger=shared).count() == len(seed.CATEGORIES)


def test_the_households_pgbench_ledgers_are_their_ledgers():
    for user in LAYOUT.multi_user_ids:
        computed = [
            eval(expression.replace(":uid", str(user)).replace("/", "//"))
            for expression in LAYOUT.pgbench_ledgers()
        ]
        assert computed == LAYOUT.ledgers_of(user)


def test_the_3_ledger_scenario_is_a_cache_off_list_of_household_users():
    scenarios = {s.name: s for s in load_scenarios(TODAY)}
    scenario = scenarios["list_3_ledgers"]
    assert (scenario.path, scenario.cache, scenario.floor, scenario.ledgers) == (
        LIST,
        False,
        "list_3_ledgers",
        3,
    )
    assert scenario.floor in floors.ORM_FLOORS
    assert all(s.ledgers == 1 for s in scenarios.values() if s is not scenario)
    # After the scenarios that ran before it was added, in the cache-off phase.
    names = [s.name for s in load_scenarios(TODAY) if not s.cache]
    assert names == ["list", "list_search", "summary_cold", "list_3_ledgers"]


def capture_3_ledgers(user: int, path: str = LIST) -> tuple:
    from accounts.models import User

    return sqlcapture.capture(
        APIClient(),
        "list_3_ledgers",
        "GET",
        path,
        uid=user,
        token=bearer(User.objects.get(pk=user)).split()[1],
        ledgers=LAYOUT.ledgers_of(user),
    )


@override_settings(CASHMAN_LEDGER_CACHE_SECONDS=0, ROOT_URLCONF="bench.urls")
@pytest.mark.parametrize("user", [7, 8, 12])
def test_the_3_ledger_orm_floor_issues_cashmans_statements_and_answers_the_same(seeded, user):
    """For a user in 3 ledgers, the Django view reads their ledgers and filters by all three,
    with the same statements as Cashman, the same page and the same count."""
    cashman, mine = capture_3_ledgers(user)
    orm, answer = sqlcapture.capture(
        APIClient(), "list_3_ledgers", "GET", floors.orm_path(LIST, "list_3_ledgers"), uid=user
    )
    assert (mine.status_code, answer.status_code) == (200, 200)
    assert floors.orm_statements_match(cashman, orm), [s.sql for s in orm.statements]
    # The user, their ledgers, the page of the three ledgers' rows, the count (the page is full).
    assert len(cashman.statements) == 4
    reads, page, count = cashman.statements[1:]
    assert reads.reads_ledgers
    assert page.sql.count("%s") == count.sql.count("%s") == 3
    assert '"ledger_transaction"."ledger_id" IN (%s, %s, %s)' in page.sql
    assert count.is_count
    # The personal ledger is the user's own id; the shared ones are placeholders of their place.
    assert [p["t"] for p in page.params] == ["uid", "ledger", "ledger"]
    assert [p.get("i") for p in page.params] == [None, 1, 2]
    assert answer.json()["count"] == mine.json()["count"] == LAYOUT.rows_per_user
    assert [r["id"] for r in answer.json()["results"]] == [r["id"] for r in mine.json()["results"]]
    assert {r["ledger"] for r in mine.json()["results"]} == set(LAYOUT.ledgers_of(user))


@override_settings(CASHMAN_LEDGER_CACHE_SECONDS=0)
@pytest.mark.parametrize("replayed_for", [8, 10, 12])
def test_the_raw_floor_replays_a_3_ledger_list_with_the_users_own_ledgers(seeded, replayed_for):
    """Captured for user 7 (ledgers 7, 13, 14), replayed for another household's user: the raw
    floor reads that user's ledgers and puts them in the IN list, so it answers their rows."""
    capture, _ = capture_3_ledgers(7)
    mine = client_for(replayed_for).get(LIST).json()
    floor = floors.replay(capture, replayed_for)
    assert floor["count"] == mine["count"] == LAYOUT.rows_per_user
    assert [r["id"] for r in floor["rows"]] == [r["id"] for r in mine["results"]]
    assert {r["ledger"] for r in floor["rows"]} == set(LAYOUT.ledgers_of(replayed_for))


@pytest.mark.skipif(not shutil.which("pgbench"), reason="pgbench is not installed")
def test_the_3_ledger_pgbench_script_computes_the_users_ledgers_and_runs(seeded, tmp_path):
    """The SQL floor: the same statements, each user's ledgers computed from their id."""
    capture, _ = capture_3_ledgers(12)
    with seeded.cursor() as cursor:
        script = sqlcapture.pgbench_script(
            capture, cursor, users=12, first_user=7, ledgers=LAYOUT.pgbench_ledgers()
        )
    seeded.rollback()
    lines = script.splitlines()
    assert lines[:3] == [
        "\\set uid random(7, 12)",
        "\\set ledger_1 14 + 2 * ((:uid - 7) / 3)",
        "\\set ledger_2 15 + 2 * ((:uid - 7) / 3)",
    ]
    scoped = [
        line for line in lines if '"ledger_transaction"' in line or "ledger_monthtotal" in line
    ]
    # The page and the count (from the rollups), neither with user 12's ledgers in it.
    assert len(scoped) == 2
    assert all('"ledger_id" IN (:uid, :ledger_1, :ledger_2)' in line for line in scoped)
    path = tmp_path / "script.sql"
    path.write_text(script)
    db = connection.settings_dict
    command = ["pgbench", "-n", "-t", "12", "-f", str(path)]
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    result = subprocess.run(
        [*command, db["NAME"]], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "number of failed transactions: 0" in result.stdout

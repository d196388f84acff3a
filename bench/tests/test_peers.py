"""The lean peers (bench/peers/) as the harness runs them, under their own servers against the
test database on the tiny seed: each answers Cashman's very JSON for a captured list, list with
filters and summary, the same created row and the same CSV export, replayed for another user than
the one the SQL was captured for, and refuses what Cashman refuses.

They run only where their packages are installed (requirements/bench.txt, which `make bench`
installs) and PostgreSQL is configured, like the other bench tests."""

import json
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings

from bench import sqlcapture
from bench.peers.servers import PEERS, PeerServer
from bench.scenarios import LIST, SUMMARY, create_body, export_path, search_query
from bench.tests.test_seed_and_floors import LAYOUT, TODAY, client_for, seeded  # noqa: F401
from conftest import bearer
from ledger.models import Transaction

for package in ("flask", "marshmallow", "fastapi", "pydantic", "uvicorn", "asyncpg"):
    pytest.importorskip(
        package, reason="the peers' packages: pip install -r requirements/bench.txt"
    )

pytestmark = [pytest.mark.postgres, pytest.mark.server, pytest.mark.django_db(transaction=True)]

CAPTURE_USER = 3
SEARCH = LIST + search_query(TODAY)
#: What each peer serves: the harness's capture names and their requests.
CAPTURED = {
    "list": ("GET", LIST),
    "list_search": ("GET", SEARCH),
    "summary_cold": ("GET", SUMMARY),
    "create": ("POST", LIST),
    "export_csv": ("GET", export_path("csv")),
}


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def token(user_id: int) -> str:
    from accounts.models import User

    return bearer(User.objects.get(pk=user_id)).split()[1]


@pytest.fixture
def peers(seeded, tmp_path):  # noqa: F811
    """Both peers, one worker each, replaying what Cashman issued for user 3 (cache off)."""
    body = create_body(TODAY)
    captures = {}
    with override_settings(CASHMAN_LEDGER_CACHE_SECONDS=0):
        for name, (method, path) in CAPTURED.items():
            captures[name], answer = sqlcapture.capture(
                APIClient(),
                name,
                method,
                path,
                uid=CAPTURE_USER,
                token=token(CAPTURE_USER),
                body=body if method == "POST" else None,
            )
            assert answer.status_code in (200, 201), (name, answer.status_code)
    sql_file = tmp_path / "sql.json"
    sqlcapture.save(captures, sql_file, uid=CAPTURE_USER)
    env = {
        "DATABASE_URL": database_url(),
        "JWT_SIGNING_KEY": api_settings.SIGNING_KEY,
        "BENCH_SQL_FILE": str(sql_file),
        "BENCH_CREATE_BODY": json.dumps(body),
    }
    servers = [PeerServer(name, env, tmp_path / f"{name}.log", workers=1) for name in PEERS]
    try:
        for server in servers:
            server.launch()
        yield [server.wait() for server in servers]
    finally:
        for server in servers:
            server.stop()


def ask(server: PeerServer, path: str, user: int | None, *, body: bytes | None = None):
    headers = {"Host": "testserver", "Content-Type": "application/json"}
    if user is not None:
        headers["Authorization"] = f"Bearer {token(user)}"
    request = urllib.request.Request(
        server.url + path, headers=headers, data=body, method="POST" if body else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_each_peer_answers_cashmans_json_for_another_user(peers):
    with override_settings(CASHMAN_LEDGER_CACHE_SECONDS=0):
        for path in (LIST, SEARCH, SUMMARY):
            mine = client_for(1).get(path)
            assert mine.status_code == 200
            for server in peers:
                status, theirs = ask(server, path, 1)
                assert status == 200, (server.label, path, theirs)
                # Byte for byte but for the order of keys and the spacing of the JSON.
                assert json.loads(theirs) == mine.json(), (server.label, path)
        # A full first page (counted, with its next page's link) and a short one (not).
        assert mine.json() != []
        full, short = client_for(1).get(LIST).json(), client_for(1).get(SEARCH).json()
        assert (full["count"], full["next"]) == (
            LAYOUT.rows_per_user,
            "http://testserver/api/v1/transactions/?page=2",
        )
        assert short["next"] is None and 0 < short["count"] < 50


def test_each_peer_creates_exports_and_refuses_as_cashman_does(peers):
    """One test, so that the servers start once: the created row, the CSV export, refusals."""
    check_create(peers)
    check_export(peers)
    check_refusals(peers)


def check_create(peers):
    body = json.dumps(create_body(TODAY)).encode()
    mine = client_for(2).post(LIST, json.loads(body), format="json").json()
    for server in peers:
        status, answer = ask(server, LIST, 2, body=body)
        assert status == 201, (server.label, answer)
        theirs = json.loads(answer)
        assert {k: v for k, v in theirs.items() if k not in ("id", "created_at", "updated_at")} == {
            k: v for k, v in mine.items() if k not in ("id", "created_at", "updated_at")
        }
        assert theirs["created_at"].endswith("Z")
        row = Transaction.objects.get(pk=theirs["id"])
        assert (row.ledger_id, row.account_id, row.created_by_id, str(row.amount)) == (
            2,
            2,
            2,
            "-12.34",
        )
        assert [h.history_user_id for h in row.history.all()] == [2]
    # Cashman's and each peer's, and each raised the user's ledger generation.
    from accounts.models import User

    assert User.objects.get(pk=2).ledger_generation == 1 + len(peers)


def check_export(peers):
    user = LAYOUT.export_user
    response = client_for(user).get(export_path("csv"))
    mine = b"".join(response.streaming_content)
    assert mine.count(b"\n") == LAYOUT.export_rows + 1
    for server in peers:
        status, theirs = ask(server, export_path("csv"), user)
        assert status == 200, server.label
        assert theirs == mine, server.label


def check_refusals(peers):
    from accounts.models import User

    revoked = token(1)
    User.objects.filter(pk=1).update(token_generation=5)  # a password change, say
    inactive = token(4)
    User.objects.filter(pk=4).update(is_active=False)
    for server in peers:
        for path in (LIST, SUMMARY):
            assert ask(server, path, None)[0] in (401, 403), server.label  # no token
        request = urllib.request.Request(
            server.url + LIST, headers={"Authorization": f"Bearer {revoked}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401, server.label
        request = urllib.request.Request(
            server.url + LIST, headers={"Authorization": f"Bearer {inactive}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401, server.label
        # A shape of request Cashman's SQL was not captured for.
        assert ask(server, LIST + "?ordering=amount", 2)[0] == 404, server.label

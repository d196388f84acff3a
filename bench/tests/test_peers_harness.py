"""The lean peers' shared steps (bench/peers/replay.py) and their place in the harness: the
settings, the check of their answers, the ratios, targets and table. No server, no database."""

import datetime
from decimal import Decimal

import jwt
import pytest
from rest_framework.utils.urls import replace_query_param
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from bench import config, report
from bench.peers import replay
from bench.phases import same_json
from bench.sqlcapture import Capture, Statement

USER = 'SELECT "accounts_user"."id", "accounts_user"."is_active" FROM "accounts_user" WHERE id = %s'
LEDGERS = 'SELECT "ledger_membership"."ledger_id" AS "ledger_id" FROM "ledger_membership" WHERE user_id = %s'
PAGE = 'SELECT "ledger_transaction"."id" FROM "ledger_transaction" WHERE ledger_id IN (%s, %s) AND description LIKE %s'
COUNT = 'SELECT COUNT(*) AS "__count" FROM "ledger_transaction" WHERE ledger_id IN (%s, %s)'


def user_row(**extra):
    return {"id": 7, "is_active": True, "token_generation": 2, **extra}


class TestToken:
    def claims(self, **extra):
        token = AccessToken()
        token["user_id"] = "7"
        token["gen"] = 2
        for key, value in extra.items():
            token[key] = value
        return str(token)

    def test_simplejwts_access_token_verifies(self):
        claims = replay.verify(self.claims(), api_settings.SIGNING_KEY)
        assert (claims["user_id"], claims["gen"], claims["token_type"]) == ("7", 2, "access")

    @pytest.mark.parametrize(
        "token",
        [
            lambda: str(RefreshToken()),  # not an access token
            lambda: jwt.encode({"exp": 1, "jti": "x", "user_id": "7"}, api_settings.SIGNING_KEY),
            lambda: jwt.encode(
                {"exp": 2**40, "user_id": "7", "token_type": "access"}, api_settings.SIGNING_KEY
            ),  # no jti
            lambda: jwt.encode(
                {"exp": 2**40, "jti": "x", "user_id": "7", "token_type": "access"},
                "another key, long enough for HS256 to be quiet",
            ),
            lambda: "not.a.token",
            lambda: "",
        ],
    )
    def test_anything_else_is_refused(self, token):
        with pytest.raises(replay.Unauthorized):
            replay.verify(token(), api_settings.SIGNING_KEY)

    def test_the_user_rows_checks(self):
        claims = {"user_id": "7", "gen": 2}
        replay.check_user([user_row()], claims)
        for rows in ([], [user_row(is_active=False)], [user_row(token_generation=3)]):
            with pytest.raises(replay.Unauthorized):
                replay.check_user(rows, claims)
        with pytest.raises(replay.Unauthorized, match="revoked"):
            replay.check_user([user_row()], {"user_id": "7"})  # no claim: generation 0


def run(steps, results: dict[str, list]) -> tuple[replay.Answer, list]:
    """Drive a replay with scripted rows (by the statement's first word after SELECT); returns
    the answer and the statements run, with their parameters."""
    ran = []

    def execute(statement, params):
        ran.append((statement.sql, params))
        return next(rows for start, rows in results.items() if statement.sql.startswith(start))

    return replay.drive(steps, execute), ran


def list_capture() -> Capture:
    page_params = [{"t": "uid"}, {"t": "ledger", "i": 1}, {"t": "raw", "v": "%coffee%"}]
    return Capture(
        "list_search",
        "GET",
        "/api/v1/transactions/?search=coffee",
        200,
        [
            Statement(USER, [{"t": "uid"}]),
            Statement(LEDGERS, [{"t": "uid"}]),
            Statement(PAGE, page_params),
            Statement(COUNT, page_params[:2]),
        ],
    )


class TestReplay:
    def test_a_full_page_is_counted_for_the_tokens_user_with_their_ledgers(self):
        found = replay.Replay(list_capture(), {"search": "coffee"})
        page = [{"id": n} for n in range(replay.PAGE_SIZE)]
        results = {
            'SELECT "accounts_user"': [user_row(id=9)],
            'SELECT "ledger_membership"': [{"ledger_id": 30}, {"ledger_id": 9}],
            'SELECT "ledger_transaction"': page,
            "SELECT COUNT": [{"__count": 120}],
        }
        steps = found.statements({"user_id": "9", "gen": 2}, {"search": "tea_50%"})
        answer, ran = run(steps, results)
        assert (answer.rows, answer.count, answer.total) == (page, 120, 120)
        # The user's id, their other ledger (sorted as ledger.scope sorts them), their search.
        assert [params for _sql, params in ran] == [
            [9],
            [9],
            [9, 30, "%tea\\_50\\%%"],
            [9, 30],
        ]

    def test_a_short_page_is_the_whole_list(self):
        found = replay.Replay(list_capture(), {"search": "coffee"})
        results = {
            'SELECT "accounts_user"': [user_row()],
            'SELECT "ledger_membership"': [{"ledger_id": 7}, {"ledger_id": 8}],
            'SELECT "ledger_transaction"': [{"id": 1}, {"id": 2}],
        }
        answer, ran = run(
            found.statements({"user_id": "7", "gen": 2}, {"search": "coffee"}), results
        )
        assert (answer.count, answer.total) == (None, 2)
        assert not any(sql.startswith("SELECT COUNT") for sql, _ in ran)
        assert ran[2][1] == [7, 8, "%coffee%"]

    def test_a_refused_user_runs_nothing_more(self):
        found = replay.Replay(list_capture(), {})
        with pytest.raises(replay.Unauthorized):
            run(found.statements({"user_id": "7"}), {'SELECT "accounts_user"': [user_row()]})

    def test_a_create_binds_the_bodys_values_and_the_new_rows_id(self):
        insert = 'INSERT INTO "ledger_transaction" ("description", "amount", "date") VALUES (%s, %s, %s) RETURNING "ledger_transaction"."id"'
        history = (
            'INSERT INTO "ledger_historicaltransaction" ("id", "history_date") VALUES (%s, %s)'
        )
        capture = Capture(
            "create",
            "POST",
            "/api/v1/transactions/",
            201,
            [
                Statement(USER, [{"t": "uid"}]),
                Statement('SELECT "ledger_account"."id"', [{"t": "uid"}]),
                Statement(
                    insert,
                    [
                        {"t": "raw", "v": "bench create"},
                        {"t": "decimal", "v": "-12.34"},
                        {"t": "date", "v": "2026-11-29"},
                    ],
                ),
                Statement(history, [{"t": "ref"}, {"t": "now"}]),
            ],
        )
        day = datetime.date(2026, 11, 29)
        captured = {"description": "bench create", "amount": Decimal("-12.34"), "date": day}
        found = replay.Replay(capture, captured)
        mine = {"description": "tea", "amount": Decimal("-1.50"), "date": day}
        results = {
            'SELECT "accounts_user"': [user_row()],
            'SELECT "ledger_account"': [{"id": 7, "ledger_id": 7}],
            'INSERT INTO "ledger_transaction"': [{"id": 501}],
            'INSERT INTO "ledger_historicaltransaction"': [],
        }
        answer, ran = run(found.statements({"user_id": "7", "gen": 2}, mine), results)
        assert ran[2][1] == ["tea", Decimal("-1.50"), day]
        assert ran[3][1] == [501, answer.now]
        row = replay.created(answer, mine)
        assert (row["id"], row["account"], row["ledger"], row["amount"]) == (
            501,
            7,
            7,
            Decimal("-1.50"),
        )

    def test_the_first_statement_must_be_the_user_lookup(self):
        capture = list_capture()
        capture.statements = capture.statements[1:]
        with pytest.raises(ValueError, match="user lookup"):
            replay.Replay(capture, {})


@pytest.mark.parametrize(
    "url",
    [
        "http://testserver/api/v1/transactions/",
        "http://127.0.0.1:8000/api/v1/transactions/?search=coffee&date_after=2026-01-01",
        "http://h/api/v1/transactions/?search=a%20b&date_before=2026-01-01&page_size=",
    ],
)
def test_the_next_link_is_drfs(url):
    assert replay.page_link(url, replay.PAGE_SIZE + 1) == replace_query_param(url, "page", 2)
    assert replay.page_link(url, replay.PAGE_SIZE) is None


def test_sums_in_cents_and_months():
    assert f"{replay.cents(Decimal('-38540')):.2f}" == "-385.40"
    assert f"{replay.cents(0):.2f}" == "0.00"
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    assert replay.month({"month_start": start}) == "2026-11"
    assert replay.month({"date": datetime.date(2026, 2, 1)}) == "2026-02"


def test_the_sign_rule():
    assert replay.signed("EXPENSE", Decimal("12.34")) == Decimal("-12.34")
    assert replay.signed("EXPENSE", Decimal("-12.34")) == Decimal("-12.34")
    assert replay.signed("INCOME", Decimal("5")) == Decimal("5")
    for type_, value in (("INCOME", "-5"), ("INCOME", "0"), ("EXPENSE", "0")):
        with pytest.raises(ValueError):
            replay.signed(type_, Decimal(value))


def test_asyncpg_placeholders():
    fastapi_app = pytest.importorskip("bench.peers.fastapi_app")
    assert (
        fastapi_app.numbered("SELECT %s, '100%%' WHERE a IN (%s, %s)")
        == "SELECT $1, '100%' WHERE a IN ($2, $3)"
    )


class TestSameJson:
    def test_a_pages_links_may_name_another_server(self):
        page = {
            "count": 60,
            "next": "http://127.0.0.1:1/x/?page=2",
            "previous": None,
            "results": [],
        }
        assert same_json(page, {**page, "next": "http://127.0.0.1:2/x/?page=2"})
        assert not same_json(page, {**page, "next": "http://127.0.0.1:2/x/?page=3"})
        assert not same_json(page, {**page, "count": 61})

    def test_a_created_row_may_have_its_own_id_and_times(self):
        row = {"id": 1, "amount": "-12.34", "created_at": "a", "updated_at": "a"}
        assert same_json(row, {**row, "id": 2, "created_at": "b", "updated_at": "c"})
        assert not same_json(row, {**row, "amount": "12.34"})

    def test_summaries_must_be_equal(self):
        months = [{"month": "2026-11", "income": "1.00", "count": 1}]
        assert same_json(months, [dict(months[0])])
        assert not same_json(months, [{**months[0], "income": "1.01"}])


class TestSettings:
    def test_both_peers_and_64_connections_by_default(self, monkeypatch):
        for name in ("BENCH_PEERS", "BENCH_WIDE_CONNECTIONS"):
            monkeypatch.delenv(name, raising=False)
        cfg = config.load(smoke=True)
        assert (cfg.peers, cfg.wide_connections) == (("flask", "fastapi"), 64)

    @pytest.mark.parametrize(
        ("value", "peers"),
        [("", ()), ("fastapi", ("fastapi",)), ("fastapi,flask", ("flask", "fastapi"))],
    )
    def test_bench_peers_chooses(self, monkeypatch, value, peers):
        monkeypatch.setenv("BENCH_PEERS", value)
        assert config.load(smoke=True).peers == peers

    def test_an_unknown_peer_is_refused(self, monkeypatch):
        monkeypatch.setenv("BENCH_PEERS", "flask,django")
        with pytest.raises(ValueError, match="django"):
            config.load(smoke=True)


def measured(rps, p50=1.0, p99=2.0, **extra):
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "error_count": 0, "non_2xx": 0, **extra}


def list_entry(rounds, **extra):
    return {"name": "list", "title": "list", "unit": "req/s", "rounds": rounds, **extra}


class TestReport:
    def test_a_ratio_to_each_peer_and_the_lists_p99_at_64_connections(self):
        rounds = [
            {
                "cashman": measured(130, p99=40.0),
                "flask": measured(100),
                "fastapi": measured(200),
                "cashman_wide": measured(140, p99=150.0),
            },
            {
                "cashman": measured(150, p99=50.0),
                "flask": measured(100),
                "fastapi": measured(100),
                "cashman_wide": measured(150, p99=170.0),
            },
        ]
        s = report.summarise(list_entry(rounds))
        assert (s["ratio_flask"], s["ratio_fastapi"]) == (
            1.4,
            1.075,
        )  # medians of 1.3/1.5, 0.65/1.5
        assert (s["p99_ms"], s["p99_wide_ms"]) == (45.0, 160.0)
        met = {t["target"]: (t["value"], t["met"]) for t in report.evaluate({"list": s})}
        assert met["list >= 1.3x the Flask peer"] == (1.4, True)
        assert met["list >= 0.9x the FastAPI peer"] == (1.075, True)
        assert met["list >= 1.1x the FastAPI peer (stretch)"] == (1.075, False)
        # Throughput at 64 connections over that at 16: medians of 140/130 and 150/150.
        assert met["list at 64 connections >= 0.95x the req/s at 16"] == (1.038, True)
        assert met["create >= 1.0x the Flask peer"] == (None, None)

    def test_throughput_at_64_connections_may_dip_within_five_percent(self):
        wide = "list at 64 connections >= 0.95x the req/s at 16"
        met = {t["target"]: t["met"] for t in report.evaluate({"list": {"ratio_wide": 0.95}})}
        assert met[wide] is True
        met = {t["target"]: t["met"] for t in report.evaluate({"list": {"ratio_wide": 0.94}})}
        assert met[wide] is False
        assert {t["target"]: t["met"] for t in report.evaluate({})}[wide] is None

    def test_the_table_has_the_peer_columns_the_wide_row_and_the_peers_rates(self):
        rounds = [
            {
                "cashman": measured(150.0, 3.0, 9.0),
                "orm": measured(100.0),
                "view": measured(200.0),
                "sql": measured(1000.0),
                "flask": measured(100.0),
                "fastapi": measured(300.0),
                "cashman_wide": measured(160.0, 12.0, 30.0),
            }
        ]
        text = report.table({"scenarios": [list_entry(rounds, wide_connections=64)]})
        lines = text.splitlines()
        assert lines[0].endswith("| x SQL | x Flask | x FastAPI | peak worker MB |")
        assert (
            "| list | req/s | 150.0 | 3.0 | 9.0 | 100.0 | 200.0 | 1,000 | 1.50 | 0.75 | 0.15 | 1.50 | 0.50 | - |"
            in lines
        )
        wide = "| list, 64 connections | req/s | 160.0 | 12.0 | 30.0 |" + " - |" * 9
        assert wide in lines
        assert all(line.count("|") == 15 for line in lines[:4])
        assert "| list (req/s) | 100.0 | 300.0 |" in lines
        assert "| list at 64 connections >= 0.95x the req/s at 16 | 1.07 | met |" in lines

    def test_a_peers_errors_are_problems(self):
        rounds = [{"cashman": measured(1), "fastapi": measured(2, non_2xx=4)}]
        found = report.problems(
            {"scenarios": [list_entry(rounds, checks={"flask_same_json": False})]}
        )
        assert found == [
            "list round 1 fastapi: 0 errors, 4 non-2xx",
            "list: check flask_same_json failed",
        ]

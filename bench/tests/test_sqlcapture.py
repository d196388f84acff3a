import datetime
from decimal import Decimal

from bench import sqlcapture
from bench.sqlcapture import Capture, Statement


class TestParameters:
    def test_user_id_created_id_and_times_become_placeholders(self):
        now = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)
        values = [7, 99, 5, now, datetime.date(2026, 1, 2), Decimal("-12.34"), "x", None, True]
        encoded = [sqlcapture.encode_param(v, uid=7, created_id=99) for v in values]
        assert [p["t"] for p in encoded] == [
            "uid", "ref", "raw", "now", "date", "decimal", "raw", "raw", "raw"
        ]  # fmt: skip

    def test_bind_puts_the_replays_values_back(self):
        params = [
            {"t": "uid"},
            {"t": "ref"},
            {"t": "now"},
            {"t": "date", "v": "2026-01-02"},
            {"t": "decimal", "v": "-12.34"},
            {"t": "raw", "v": "%coffee%"},
        ]
        now = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
        assert sqlcapture.bind(params, uid=3, ref=41, now=now) == [
            3,
            41,
            now,
            datetime.date(2026, 1, 2),
            Decimal("-12.34"),
            "%coffee%",
        ]

    def test_a_capture_survives_the_file(self, tmp_path):
        capture = Capture("list", "GET", "/api/v1/transactions/", 200, [Statement("SELECT 1", [])])
        path = tmp_path / "sql.json"
        sqlcapture.save({"list": capture}, path, uid=3)
        assert sqlcapture.load(path)["list"] == capture


def test_only_a_count_is_a_count():
    assert Statement('SELECT COUNT(*) AS "__count" FROM "ledger_transaction"').is_count
    assert not Statement('SELECT "ledger_transaction"."id" FROM "ledger_transaction"').is_count


class FakeCursor:
    """psycopg2's mogrify, enough for ints and strings."""

    def mogrify(self, sql, params):
        quoted = [str(p) if isinstance(p, int) else f"'{p}'" for p in params]
        return (sql % tuple(quoted)).encode()


def test_pgbench_script_of_a_create_keeps_the_new_id_for_the_history_row():
    capture = Capture(
        "create",
        "POST",
        "/api/v1/transactions/",
        201,
        [
            Statement(
                'SELECT "accounts_user"."id" FROM "accounts_user" WHERE id = %s', [{"t": "uid"}]
            ),
            Statement(
                'INSERT INTO "ledger_transaction" ("owner_id", "description") VALUES (%s, %s)'
                ' RETURNING "ledger_transaction"."id"',
                [{"t": "uid"}, {"t": "raw", "v": "bench create"}],
            ),
            Statement(
                'INSERT INTO "ledger_historicaltransaction" ("id", "owner_id") VALUES (%s, %s)',
                [{"t": "ref"}, {"t": "uid"}],
            ),
        ],
    )
    script = sqlcapture.pgbench_script(capture, FakeCursor(), users=20).splitlines()
    assert script[0] == "\\set uid random(1, 20)"
    assert script[1] == "BEGIN;"
    assert script[2].endswith("WHERE id = :uid;")
    assert script[3].endswith('VALUES (:uid, \'bench create\') RETURNING "ledger_transaction"."id"')
    assert script[4] == "\\gset new_"
    assert script[5].endswith("VALUES (:new_id, :uid);")
    assert script[6] == "COMMIT;"

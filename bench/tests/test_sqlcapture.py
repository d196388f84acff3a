import datetime
from decimal import Decimal

import pytest

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

    def test_the_users_other_ledgers_become_placeholders_of_their_place(self):
        # User 7's ledgers, sorted: their personal one (of their id), then two shared ones.
        encoded = [sqlcapture.encode_param(v, uid=7, ledgers=[7, 13, 14]) for v in (7, 13, 14, 15)]
        assert encoded == [
            {"t": "uid"},
            {"t": "ledger", "i": 1},
            {"t": "ledger", "i": 2},
            {"t": "raw", "v": 15},
        ]
        # Replayed for user 10 (ledgers 10, 15, 16), with the ledgers their memberships gave.
        assert sqlcapture.bind(encoded, uid=10, ledgers=[10, 15, 16]) == [10, 15, 16, 15]

    def test_a_ledger_placeholder_needs_the_users_ledgers(self):
        with pytest.raises(ValueError, match="no ledgers were read"):
            sqlcapture.bind([{"t": "ledger", "i": 1}], uid=10)
        with pytest.raises(ValueError, match="they have 1"):
            sqlcapture.bind([{"t": "ledger", "i": 1}], uid=10, ledgers=[10])

    def test_only_the_memberships_statement_reads_ledgers(self):
        assert Statement(
            'SELECT "ledger_membership"."ledger_id" AS "ledger_id", "ledger_membership"."role"'
            ' AS "role" FROM "ledger_membership" WHERE "ledger_membership"."user_id" = %s'
        ).reads_ledgers
        assert not Statement(
            'SELECT "ledger_membership"."id" FROM "ledger_membership"'
        ).reads_ledgers

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
                'INSERT INTO "ledger_transaction" ("ledger_id", "description") VALUES (%s, %s)'
                ' RETURNING "ledger_transaction"."id"',
                [{"t": "uid"}, {"t": "raw", "v": "bench create"}],
            ),
            Statement(
                'INSERT INTO "ledger_historicaltransaction" ("id", "ledger_id") VALUES (%s, %s)',
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


def test_pgbench_script_of_a_list_over_several_ledgers_computes_them_from_the_user():
    scoped = [{"t": "uid"}, {"t": "ledger", "i": 1}, {"t": "ledger", "i": 2}]
    capture = Capture(
        "list_3_ledgers",
        "GET",
        "/api/v1/transactions/",
        200,
        [
            Statement('SELECT "ledger_id" FROM "ledger_membership" WHERE user_id = %s', scoped[:1]),
            Statement('SELECT * FROM "ledger_transaction" WHERE ledger_id IN (%s, %s, %s)', scoped),
        ],
    )
    ledgers = [":uid", ":uid + 100", ":uid + 200"]
    script = sqlcapture.pgbench_script(
        capture, FakeCursor(), users=9, first_user=4, ledgers=ledgers
    )
    assert script.splitlines() == [
        "\\set uid random(4, 9)",
        "\\set ledger_1 :uid + 100",
        "\\set ledger_2 :uid + 200",
        'SELECT "ledger_id" FROM "ledger_membership" WHERE user_id = :uid;',
        'SELECT * FROM "ledger_transaction" WHERE ledger_id IN (:uid, :ledger_1, :ledger_2);',
    ]
    with pytest.raises(ValueError, match="no pgbench expression for ledger 2"):
        sqlcapture.pgbench_script(capture, FakeCursor(), users=9)

"""The database's side of the rollups (`ledger.models.rollups`): triggers on `ledger_transaction`
that apply every insert, update and delete to `ledger_daytotal` and `ledger_monthtotal` in the
same transaction, and the first fill from the transactions already there.

PostgreSQL runs one trigger per statement over its transition tables (a `COPY` of 100,000 rows
is one grouped upsert); SQLite, which has no statement triggers, one per row. A rollup row whose
count of transactions falls to zero is deleted, so the tables hold exactly the keys that have transactions.
"""

KEY = ("ledger_id", "account_id", "category_id", "type", "status")
KEY_SQL = ", ".join(KEY)
COLUMNS = f"{KEY_SQL}, date, transactions, inflow, outflow"
TABLES = {"day": "ledger_daytotal", "month": "ledger_monthtotal"}
# The expressions of the unique index (ledger.models.rollups._unique_key), as ON CONFLICT must
# name them.
CONFLICT = "(ledger_id, date, account_id, COALESCE(category_id, 0), type, status)"
ADD = ", ".join(f"{c} = {{t}}{c} + excluded.{c}" for c in ("transactions", "inflow", "outflow"))


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_upsert(table: str, date: str, delta: str) -> str:
    grouped = f"{KEY_SQL}, {date}"
    return f"""{table}_up AS (
        INSERT INTO {TABLES[table]} AS t ({COLUMNS})
        SELECT {grouped}, sum(n), sum(inflow), sum(outflow) FROM {delta}
        GROUP BY {grouped}
        HAVING sum(n) <> 0 OR sum(inflow) <> 0 OR sum(outflow) <> 0
        ORDER BY {grouped}
        ON CONFLICT {CONFLICT} DO UPDATE SET {ADD.format(t="t.")}
        RETURNING t.id, t.transactions
    )"""


def _pg_function(event: str, sources: list[tuple[str, int]]) -> str:
    changed = "\n        UNION ALL\n        ".join(
        f"SELECT {KEY_SQL}, date, {sign} AS n, CAST(round(amount * 100) AS bigint) AS cents"
        f" FROM {relation}"
        for relation, sign in sources
    )
    return f"""
CREATE FUNCTION ledger_rollup_{event}() RETURNS trigger AS $$
DECLARE
    zero_days bigint[];
    zero_months bigint[];
BEGIN
    WITH changed AS (
        {changed}
    ), delta AS (
        SELECT {KEY_SQL}, date, n, n * GREATEST(cents, 0) AS inflow, n * LEAST(cents, 0) AS outflow
        FROM changed
    ), {_pg_upsert("day", "date", "delta")}, {
        _pg_upsert("month", "date_trunc('month', date)::date", "delta")
    }
    SELECT (SELECT array_agg(id) FROM day_up WHERE transactions = 0),
           (SELECT array_agg(id) FROM month_up WHERE transactions = 0)
    INTO zero_days, zero_months;
    IF zero_days IS NOT NULL THEN
        DELETE FROM ledger_daytotal WHERE id = ANY (zero_days);
    END IF;
    IF zero_months IS NOT NULL THEN
        DELETE FROM ledger_monthtotal WHERE id = ANY (zero_months);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


_PG_EVENTS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", [("new_rows", 1)]),
    "update": (
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        [("new_rows", 1), ("old_rows", -1)],
    ),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", [("old_rows", -1)]),
}

POSTGRES_FORWARD = "".join(
    _pg_function(event, sources)
    + f"CREATE TRIGGER ledger_rollup_{event} AFTER {verb} ON ledger_transaction {referencing}"
    f" FOR EACH STATEMENT EXECUTE FUNCTION ledger_rollup_{event}();\n"
    for event, (verb, referencing, sources) in _PG_EVENTS.items()
)

POSTGRES_REVERSE = "".join(
    f"DROP TRIGGER IF EXISTS ledger_rollup_{event} ON ledger_transaction;\n"
    f"DROP FUNCTION IF EXISTS ledger_rollup_{event}();\n"
    for event in _PG_EVENTS
)


# --- SQLite -----------------------------------------------------------------------------------

_SQLITE_DATES = {"day": "{row}.date", "month": "substr({row}.date, 1, 8) || '01'"}


def _sqlite_apply(table: str, row: str, sign: int) -> str:
    cents = f"CAST(round({row}.amount * 100) AS INTEGER)"
    values = ", ".join(f"{row}.{column}" for column in KEY)
    date = _SQLITE_DATES[table].format(row=row)
    return (
        f"INSERT INTO {TABLES[table]} ({COLUMNS}) VALUES ({values}, {date}, {sign},"
        f" {sign} * max({cents}, 0), {sign} * min({cents}, 0))"
        f" ON CONFLICT {CONFLICT} DO UPDATE SET {ADD.format(t='')};"
    )


def _sqlite_drop_empty(table: str, row: str) -> str:
    date = _SQLITE_DATES[table].format(row=row)
    return (
        f"DELETE FROM {TABLES[table]} WHERE ledger_id = {row}.ledger_id AND date = {date}"
        f" AND account_id = {row}.account_id"
        f" AND COALESCE(category_id, 0) = COALESCE({row}.category_id, 0)"
        f" AND type = {row}.type AND status = {row}.status AND transactions = 0;"
    )


def _sqlite_body(steps: list[tuple[str, int]]) -> str:
    statements = []
    for table in TABLES:
        statements += [_sqlite_apply(table, row, sign) for row, sign in steps]
        statements += [_sqlite_drop_empty(table, row) for row, sign in steps if sign < 0]
    return "\n    ".join(statements)


# An update that changes none of what the rollups hold (a description, a version) writes nothing.
_SQLITE_CHANGED = " OR ".join(
    f"OLD.{column} IS NOT NEW.{column}" for column in (*KEY, "date", "amount")
)

SQLITE_FORWARD = [
    "CREATE TRIGGER ledger_rollup_insert AFTER INSERT ON ledger_transaction BEGIN\n    "
    + _sqlite_body([("NEW", 1)])
    + "\nEND;",
    f"CREATE TRIGGER ledger_rollup_update AFTER UPDATE ON ledger_transaction WHEN {_SQLITE_CHANGED}"
    " BEGIN\n    " + _sqlite_body([("OLD", -1), ("NEW", 1)]) + "\nEND;",
    "CREATE TRIGGER ledger_rollup_delete AFTER DELETE ON ledger_transaction BEGIN\n    "
    + _sqlite_body([("OLD", -1)])
    + "\nEND;",
]

SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS ledger_rollup_{event}" for event in ("insert", "update", "delete")
]


# --- The first fill ---------------------------------------------------------------------------

_MONTH_OF = {
    "postgresql": "date_trunc('month', date)::date",
    "sqlite": "substr(date, 1, 8) || '01'",
}


def fill_statements(vendor: str) -> list[str]:
    """Recompute both tables from the transactions (emptied first)."""
    cents = "CAST(round(amount * 100) AS BIGINT)"
    month = _MONTH_OF[vendor]
    return [
        "DELETE FROM ledger_daytotal",
        "DELETE FROM ledger_monthtotal",
        f"INSERT INTO ledger_daytotal ({COLUMNS})"
        f" SELECT {KEY_SQL}, date, count(*),"
        f" sum(CASE WHEN amount > 0 THEN {cents} ELSE 0 END),"
        f" sum(CASE WHEN amount < 0 THEN {cents} ELSE 0 END)"
        f" FROM ledger_transaction GROUP BY {KEY_SQL}, date",
        f"INSERT INTO ledger_monthtotal ({COLUMNS})"
        f" SELECT {KEY_SQL}, {month}, sum(transactions), sum(inflow), sum(outflow)"
        f" FROM ledger_daytotal GROUP BY {KEY_SQL}, {month}",
    ]


def _run(statements: dict[str, str | list[str]]):
    def run(apps, schema_editor):
        sql = statements.get(schema_editor.connection.vendor)
        if sql is None:
            return
        for statement in [sql] if isinstance(sql, str) else sql:
            schema_editor.execute(statement, params=None)

    return run


create_rollup_triggers = _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})
drop_rollup_triggers = _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE})


def fill_rollups(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor in _MONTH_OF:
        _run({vendor: fill_statements(vendor)})(apps, schema_editor)

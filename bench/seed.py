"""The benchmark database: created if missing, migrated, and seeded with COPY unless it already
holds the requested scale (a marker table says which).

Layout: users 1..N each own `rows_per_user` transactions over about three years and five
categories; user N+1 ("export") owns `export_rows` transactions of its own; user N+2 ("import")
starts empty and receives the import scenario's rows, deleted again after each round.
"""

import datetime
import io
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg2
from psycopg2 import sql

from bench.config import Config, check_database_url, database_name

SEED_VERSION = 1
DAYS = 3 * 365
CATEGORIES = ("Food", "Rent", "Salary", "Leisure", "Transport")
# (description, category index or None); searching "coffee" finds about one expense in ten.
EXPENSES = (
    ("coffee at the corner cafe", 0),
    ("groceries at the market", 0),
    ("pizza night", 0),
    ("monthly rent", 1),
    ("train ticket", 4),
    ("taxi home", 4),
    ("cinema tickets", 3),
    ("concert tickets", 3),
    ("pharmacy", None),
    ("electricity bill", None),
)
INCOMES = (("salary", 2), ("dividends", None), ("freelance invoice", 2), ("tax refund", None))
CREATED_DESCRIPTION = "bench create"  # rows the create scenario adds; removed at each start
TRUNCATED = (
    "accounts_user",
    "ledger_category",
    "ledger_transaction",
    "ledger_historicaltransaction",
    "ledger_importjob",
    "ledger_idempotencykey",
)


@dataclass(frozen=True)
class Layout:
    users: int
    rows_per_user: int
    export_rows: int

    @property
    def export_user(self) -> int:
        return self.users + 1

    @property
    def import_user(self) -> int:
        return self.users + 2

    def marker(self) -> dict:
        return {
            "version": SEED_VERSION,
            "users": self.users,
            "rows_per_user": self.rows_per_user,
            "export_rows": self.export_rows,
        }


def layout_of(config: Config) -> Layout:
    return Layout(config.users, config.rows_per_user, config.export_rows)


def email(user_id: int, layout: Layout) -> str:
    if user_id == layout.export_user:
        return "bench-export@example.com"
    if user_id == layout.import_user:
        return "bench-import@example.com"
    return f"bench-user-{user_id:05d}@example.com"


def connect(url: str):
    return psycopg2.connect(check_database_url(url))


def ensure_database(url: str) -> bool:
    """Create the database if it does not exist; True when it was created."""
    name = database_name(check_database_url(url))
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone():
                return False
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        admin.close()


def is_seeded(conn, layout: Layout) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_seed') IS NOT NULL")
        if not cur.fetchone()[0]:
            return False
        cur.execute("SELECT marker FROM bench_seed")
        row = cur.fetchone()
        return row is not None and json.loads(row[0]) == layout.marker()


# --- Rows -------------------------------------------------------------------------------------


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def transaction_rows(
    owner: int, count: int, first_id: int, first_category: int, end: datetime.date, seed: int
) -> Iterator[str]:
    """COPY text lines of ledger_transaction for one owner, in the column order of COLUMNS."""
    rng = random.Random(seed)
    days = [(end - datetime.timedelta(days=n)).isoformat() for n in range(DAYS)]
    for n in range(count):
        day = days[rng.randrange(DAYS)]
        if rng.random() < 0.2:
            type_, cents = "INCOME", rng.randint(50_00, 5000_00)
            description, category = INCOMES[rng.randrange(len(INCOMES))]
        else:
            type_, cents = "EXPENSE", -rng.randint(1_00, 300_00)
            description, category = EXPENSES[rng.randrange(len(EXPENSES))]
        category_id = r"\N" if category is None else str(first_category + category)
        stamp = f"{day} 12:00:00+00"
        yield (
            f"{first_id + n}\t{owner}\t{type_}\t{description}\t{_money(cents)}\t{day}\t"
            f"{category_id}\t{stamp}\t{stamp}\t1\n"
        )


TX_COLUMNS = (
    "id, owner_id, type, description, amount, date, category_id, created_at, updated_at, version"
)


def _copy(cur, table_and_columns: str, lines: Iterator[str], chunk: int = 200_000) -> int:
    total, buffer = 0, []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= chunk:
            cur.copy_expert(f"COPY {table_and_columns} FROM STDIN", io.StringIO("".join(buffer)))
            total, buffer = total + len(buffer), []
    if buffer:
        cur.copy_expert(f"COPY {table_and_columns} FROM STDIN", io.StringIO("".join(buffer)))
        total += len(buffer)
    return total


def seed(conn, layout: Layout, *, today: datetime.date | None = None) -> dict:
    """Truncate the ledger and accounts tables and fill them with COPY; returns counts."""
    started = time.monotonic()
    end = today or datetime.date.today()
    now = datetime.datetime.now(datetime.UTC).isoformat()
    with conn, conn.cursor() as cur:
        # The rows are built valid (each category belongs to its owner): the per-row triggers
        # (category-owner check, foreign keys) are skipped while loading. CHECK constraints stay.
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute(f"TRUNCATE {', '.join(TRUNCATED)} RESTART IDENTITY CASCADE")
        all_users = range(1, layout.import_user + 1)
        _copy(
            cur,
            "accounts_user (id, password, is_superuser, email, first_name, last_name, is_staff,"
            " is_active, date_joined, token_generation, ledger_generation)",
            (
                f"{u}\t!\tf\t{email(u, layout)}\tBench\tUser {u}\tf\tt\t{now}\t0\t0\n"
                for u in all_users
            ),
        )
        owners = [(u, layout.rows_per_user) for u in range(1, layout.users + 1)]
        owners.append((layout.export_user, layout.export_rows))
        _copy(
            cur,
            "ledger_category (id, owner_id, name, created_at, version)",
            (
                f"{(owner - 1) * len(CATEGORIES) + k + 1}\t{owner}\t{name}\t{now}\t1\n"
                for owner, _ in owners
                for k, name in enumerate(CATEGORIES)
            ),
        )

        def lines() -> Iterator[str]:
            next_id = 1
            for owner, count in owners:
                yield from transaction_rows(
                    owner, count, next_id, (owner - 1) * len(CATEGORIES) + 1, end, seed=owner
                )
                next_id += count

        rows = _copy(cur, f"ledger_transaction ({TX_COLUMNS})", lines())
        for table in ("accounts_user", "ledger_category", "ledger_transaction"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        cur.execute("CREATE TABLE IF NOT EXISTS bench_seed (marker text NOT NULL)")
        cur.execute("DELETE FROM bench_seed")
        cur.execute("INSERT INTO bench_seed VALUES (%s)", [json.dumps(layout.marker())])
    analyze(conn)
    return {"transactions": rows, "seconds": round(time.monotonic() - started, 1)}


def analyze(conn) -> None:
    old = conn.autocommit
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) accounts_user, ledger_category, ledger_transaction")
    finally:
        conn.autocommit = old


def reset_run_rows(conn, layout: Layout) -> None:
    """Remove what earlier runs added: created transactions and the import user's rows."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "DELETE FROM ledger_transaction WHERE description = %s OR owner_id = %s",
            [CREATED_DESCRIPTION, layout.import_user],
        )
        clear_import_user(cur, layout)
        cur.execute(
            "DELETE FROM ledger_historicaltransaction WHERE description = %s",
            [CREATED_DESCRIPTION],
        )
        cur.execute("DELETE FROM ledger_idempotencykey")


def clear_import_user(cur, layout: Layout) -> None:
    user = layout.import_user
    cur.execute("DELETE FROM ledger_transaction WHERE owner_id = %s", [user])
    cur.execute("DELETE FROM ledger_historicaltransaction WHERE owner_id = %s", [user])
    cur.execute("DELETE FROM ledger_importjob WHERE owner_id = %s", [user])
    cur.execute("DELETE FROM ledger_category WHERE owner_id = %s", [user])

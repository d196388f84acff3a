"""The benchmark database: created if missing, migrated, and seeded with COPY unless it already
holds the requested scale (a marker table says which).

Layout: users 1..N each have `rows_per_user` transactions over about three years and five
categories; user N+1 ("export") has `export_rows` transactions of its own; user N+2 ("import")
starts empty and receives the import scenario's rows, deleted again after each round.

Every user has a personal ledger, as the app makes one at sign-up (a signal, which COPY does
not send, so the seed writes it): ledger u ("Personal", personal_for u), with u its owner
(membership u) and one account, "Main" (account u); the rows of users 1..N+1 are all in it. User
u's ledger, membership and account all have the id u: the captured SQL (bench/sqlcapture.py)
stands for the capture user's id with a placeholder, and the ledger's id in a scoped query
(`ledger_id IN (...)`) is replayed with it.

Then as many users again, N+3 onwards (`Layout.multi_users`, whole households of three), each a
member of 3 ledgers that all hold transactions, for the list over several ledgers
(`list_3_ledgers`): their personal ledger and the two ledgers their household shares, "Household"
and "Holidays" (the household's first user owns both, the other two are editors; their rows are
made by each member in turn). Each of the 3 ledgers holds a third of `rows_per_user`, so each of
these users sees `rows_per_user` rows, as the others do. The shared ledgers' ids come after every
user's (`Layout.first_shared_ledger`), so a household user's ledgers, sorted as Cashman sorts
them, are always (their own id, shared, shared) (`Layout.ledgers_of`): the capture stands for the
two shared ones with placeholders of their place. Each shared ledger has an account "Main" of its
id and five categories; the shared memberships' ids follow the personal ones.

Users 1..N+2 and their rows are the same as before the households were added (same ids, same
rows), so the other scenarios measure what they measured before.

Seeding alone, without measuring anything (the database is created and migrated if need be):

    .venv/bin/python -m bench.seed [--smoke] [--force]
"""

import argparse
import datetime
import io
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from bench.config import Config, check_database_url, database_name
from ledger.migrations._rollups import TABLES as ROLLUP_TABLES
from ledger.migrations._rollups import fill_statements as rollups_fill

SEED_VERSION = 4  # 2: ledgers, memberships and accounts (issue 22); 3: users in 3 ledgers;
# 4: rollups and a growth user (issue 23)
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
PERSONAL_LEDGER = "Personal"  # ledger.services.PERSONAL_LEDGER_NAME
MAIN_ACCOUNT = "Main"  # the account every ledger starts with
HOUSEHOLD = 3  # users of a household, who share its ledgers
SHARED_LEDGERS = ("Household", "Holidays")  # each household's shared ledgers, in id order
MULTI_LEDGERS = 1 + len(SHARED_LEDGERS)  # the ledgers of a user of a household
TRUNCATED = (
    "accounts_user",
    "ledger_ledger",
    "ledger_membership",
    "ledger_invitation",
    "ledger_account",
    "ledger_category",
    "ledger_transfer",
    "ledger_transaction",
    "ledger_historicaltransaction",
    "ledger_importjob",
    "ledger_idempotencykey",
    "ledger_daytotal",
    "ledger_monthtotal",
)
ROLLUPS = tuple(ROLLUP_TABLES.values())
#: The tables whose ids the seed writes itself: their sequences are moved past them.
SEQUENCED = (
    "accounts_user",
    "ledger_ledger",
    "ledger_membership",
    "ledger_account",
    "ledger_category",
    "ledger_transaction",
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

    # --- users in 3 ledgers: households of three, after the import user ---

    @property
    def multi_users(self) -> int:
        """How many users are in 3 ledgers: as many as the users in 1, in whole households."""
        return -(-self.users // HOUSEHOLD) * HOUSEHOLD

    @property
    def first_multi_user(self) -> int:
        return self.users + 3

    @property
    def multi_user_ids(self) -> range:
        return range(self.first_multi_user, self.first_multi_user + self.multi_users)

    @property
    def growth_user(self) -> int:
        """A user with a tenth of the export user's rows, in one ledger: the middle of the growth
        table (bench/growth.py)."""
        return self.first_multi_user + self.multi_users

    @property
    def growth_rows(self) -> int:
        return self.export_rows // 10

    @property
    def last_user(self) -> int:
        return self.growth_user

    @property
    def households(self) -> int:
        return self.multi_users // HOUSEHOLD

    @property
    def first_shared_ledger(self) -> int:
        """The first shared ledger's id: after every user's personal ledger."""
        return self.last_user + 1

    def household_of(self, user: int) -> int:
        return (user - self.first_multi_user) // HOUSEHOLD

    def household_users(self, household: int) -> range:
        first = self.first_multi_user + household * HOUSEHOLD
        return range(first, first + HOUSEHOLD)

    def shared_ledgers(self, household: int) -> tuple[int, ...]:
        first = self.first_shared_ledger + household * len(SHARED_LEDGERS)
        return tuple(range(first, first + len(SHARED_LEDGERS)))

    def ledgers_of(self, user: int) -> list[int]:
        """The ids of the user's ledgers, sorted (as `ledger.scope` sorts them): their personal
        ledger (of their own id), then their household's, if they are in one."""
        if user in self.multi_user_ids:
            return [user, *self.shared_ledgers(self.household_of(user))]
        return [user]

    def pgbench_ledgers(self) -> list[str]:
        """`ledgers_of` a user in 3 ledgers as pgbench expressions of their id (`:uid`), for the
        SQL floor's script (bench/sqlcapture.py)."""
        household = f"(:uid - {self.first_multi_user}) / {HOUSEHOLD}"
        return [
            ":uid",
            *(
                f"{self.first_shared_ledger + n} + {len(SHARED_LEDGERS)} * ({household})"
                for n in range(len(SHARED_LEDGERS))
            ),
        ]

    @property
    def shared_rows(self) -> int:
        """Rows in each shared ledger: a third of `rows_per_user`."""
        return self.rows_per_user // MULTI_LEDGERS

    @property
    def multi_personal_rows(self) -> int:
        """Rows in the personal ledger of a user in 3 ledgers: the rest of `rows_per_user`."""
        return self.rows_per_user - len(SHARED_LEDGERS) * self.shared_rows

    def marker(self) -> dict:
        return {
            "version": SEED_VERSION,
            "users": self.users,
            "rows_per_user": self.rows_per_user,
            "export_rows": self.export_rows,
            "multi_users": self.multi_users,
            "ledgers_per_multi_user": MULTI_LEDGERS,
        }


def layout_of(config: Config) -> Layout:
    return Layout(config.users, config.rows_per_user, config.export_rows)


def email(user_id: int, layout: Layout) -> str:
    if user_id == layout.export_user:
        return "bench-export@example.com"
    if user_id == layout.import_user:
        return "bench-import@example.com"
    if user_id == layout.growth_user:
        return "bench-growth@example.com"
    if user_id in layout.multi_user_ids:
        return f"bench-household-{user_id:05d}@example.com"
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
    owner: int,
    count: int,
    first_id: int,
    first_category: int,
    end: datetime.date,
    seed: int,
    *,
    creators: tuple[int, ...] = (),
) -> Iterator[str]:
    """COPY text lines of ledger_transaction for one ledger (`owner`), in the column order of
    TX_COLUMNS: in that ledger and its "Main" account (both of id `owner`), pending, made by the
    user of the same id (a personal ledger's) or, given `creators`, by each of them in turn (a
    shared ledger's)."""
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
        creator = creators[n % len(creators)] if creators else owner
        yield (
            f"{first_id + n}\t{owner}\t{owner}\t{creator}\t{type_}\t{description}\t"
            f"{_money(cents)}\t{day}\t{category_id}\tpending\t{stamp}\t{stamp}\t1\n"
        )


TX_COLUMNS = (
    "id, ledger_id, account_id, created_by_id, type, description, amount, date, category_id,"
    " status, created_at, updated_at, version"
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


def first_category(ledger: int) -> int:
    """The id of the first of a ledger's five categories (the import user's ledger has none)."""
    return (ledger - 1) * len(CATEGORIES) + 1


def seed(conn, layout: Layout, *, today: datetime.date | None = None) -> dict:
    """Truncate the ledger and accounts tables and fill them with COPY; returns counts."""
    started = time.monotonic()
    end = today or datetime.date.today()
    now = datetime.datetime.now(datetime.UTC).isoformat()
    with conn, conn.cursor() as cur:
        # The rows are built valid (each transaction's account and category are in its ledger):
        # the per-row triggers (that check, foreign keys) are skipped while loading. CHECK
        # constraints stay.
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute(f"TRUNCATE {', '.join(TRUNCATED)} RESTART IDENTITY CASCADE")
        all_users = range(1, layout.last_user + 1)
        households = range(layout.households)
        shared = [
            (ledger, name, household)
            for household in households
            for ledger, name in zip(layout.shared_ledgers(household), SHARED_LEDGERS, strict=True)
        ]
        _copy(
            cur,
            "accounts_user (id, password, is_superuser, email, first_name, last_name, is_staff,"
            " is_active, date_joined, token_generation, ledger_generation)",
            (
                f"{u}\t!\tf\t{email(u, layout)}\tBench\tUser {u}\tf\tt\t{now}\t0\t0\n"
                for u in all_users
            ),
        )
        opened = (end - datetime.timedelta(days=DAYS)).isoformat()  # before every row
        # What the sign-up signal makes for each user: a personal ledger, its owner, its account.
        # Then the households' shared ledgers (what `ledger_create` makes: its owner, an account
        # "Main"), whose other users are editors.
        _copy(
            cur,
            "ledger_ledger (id, name, personal_for_id, created_at, version)",
            (
                *(f"{u}\t{PERSONAL_LEDGER}\t{u}\t{now}\t1\n" for u in all_users),
                *(f"{ledger}\t{name}\t\\N\t{now}\t1\n" for ledger, name, _ in shared),
            ),
        )

        def memberships() -> Iterator[str]:
            yield from (f"{u}\t{u}\t{u}\towner\t{now}\n" for u in all_users)
            next_id = layout.last_user + 1
            for ledger, _, household in shared:
                for n, user in enumerate(layout.household_users(household)):
                    role = "owner" if n == 0 else "editor"
                    yield f"{next_id}\t{ledger}\t{user}\t{role}\t{now}\n"
                    next_id += 1

        _copy(cur, "ledger_membership (id, ledger_id, user_id, role, created_at)", memberships())
        _copy(
            cur,
            "ledger_account (id, ledger_id, name, kind, opening_balance, opening_date, archived,"
            " created_at, version)",
            (
                f"{ledger}\t{ledger}\t{MAIN_ACCOUNT}\tchecking\t0.00\t{opened}\tf\t{now}\t1\n"
                for ledger in (*all_users, *(ledger for ledger, _, _ in shared))
            ),
        )
        # (ledger, rows, who made them): the users in 1 ledger and the export user first, with
        # the ids they have without the households; then each household's ledgers.
        filled: list[tuple[int, int, tuple[int, ...]]] = [
            (u, layout.rows_per_user, ()) for u in range(1, layout.users + 1)
        ]
        filled.append((layout.export_user, layout.export_rows, ()))
        for household in households:
            members = tuple(layout.household_users(household))
            filled += [(u, layout.multi_personal_rows, ()) for u in members]
            filled += [(s, layout.shared_rows, members) for s in layout.shared_ledgers(household)]
        filled.append((layout.growth_user, layout.growth_rows, ()))
        _copy(
            cur,
            "ledger_category (id, ledger_id, name, created_at, version)",
            (
                f"{first_category(ledger) + k}\t{ledger}\t{name}\t{now}\t1\n"
                for ledger, _, _ in filled
                for k, name in enumerate(CATEGORIES)
            ),
        )

        def lines() -> Iterator[str]:
            next_id = 1
            for ledger, count, creators in filled:
                yield from transaction_rows(
                    ledger,
                    count,
                    next_id,
                    first_category(ledger),
                    end,
                    seed=ledger,
                    creators=creators,
                )
                next_id += count

        rows = _copy(cur, f"ledger_transaction ({TX_COLUMNS})", lines())
        # The rollup triggers were off with the others: the rollups are filled in one pass.
        for statement in rollups_fill("postgresql"):
            cur.execute(statement)
        for table in SEQUENCED:
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
            cur.execute(f"VACUUM (ANALYZE) {', '.join((*SEQUENCED, *ROLLUPS))}")
    finally:
        conn.autocommit = old


def reset_run_rows(conn, layout: Layout) -> None:
    """Remove what earlier runs added: created transactions and the import user's rows."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "DELETE FROM ledger_transaction WHERE description = %s OR ledger_id = %s",
            [CREATED_DESCRIPTION, layout.import_user],
        )
        clear_import_user(cur, layout)
        cur.execute(
            "DELETE FROM ledger_historicaltransaction WHERE description = %s",
            [CREATED_DESCRIPTION],
        )
        cur.execute("DELETE FROM ledger_idempotencykey")


def clear_import_user(cur, layout: Layout) -> None:
    """Empty the import user's personal ledger (of id the user's): its ledger, membership and
    account stay."""
    user = layout.import_user
    cur.execute("DELETE FROM ledger_transaction WHERE ledger_id = %s", [user])
    cur.execute("DELETE FROM ledger_historicaltransaction WHERE ledger_id = %s", [user])
    cur.execute("DELETE FROM ledger_importjob WHERE owner_id = %s", [user])
    cur.execute("DELETE FROM ledger_category WHERE ledger_id = %s", [user])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Seed the benchmark's database (created and migrated if need be) at the "
        "scale of the BENCH_* variables (bench/README.md), unless it holds that scale already. "
        "Measures nothing."
    )
    parser.add_argument(
        "--smoke", action="store_true", help="the smoke run's database and scale (20 users)"
    )
    parser.add_argument("--force", action="store_true", help="seed even if already seeded")
    args = parser.parse_args(argv)

    from bench import config
    from bench.run import django_env

    cfg = config.load(smoke=args.smoke)
    env = django_env(cfg, Path(tempfile.mkdtemp(prefix="cashman-seed-")))
    os.environ.update(env, DJANGO_SETTINGS_MODULE="bench.settings", DJANGO_LOG_LEVEL="WARNING")
    if ensure_database(cfg.database_url):
        print(f"created {database_name(cfg.database_url)}")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--noinput", verbosity=0)
    layout = layout_of(cfg)
    conn = connect(cfg.database_url)
    try:
        if is_seeded(conn, layout) and not args.force:
            print(f"already seeded: {layout.marker()}")
            return 0
        done = seed(conn, layout)
    finally:
        conn.close()
    print(f"seeded {layout.marker()}: {done['transactions']:,} transactions in {done['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Export (1,000,000 rows, CSV and JSON) and import (a 100,000-row CSV), in rows per second,
against their floors: the bare streaming view and COPY ... TO STDOUT for the export, COPY ...
FROM STDIN of the same rows for the import. Peak worker memory is sampled while Cashman works."""

import datetime
import io
import json
import random
import time
from decimal import Decimal

from bench import load, seed, sqlcapture
from bench.scenarios import export_path
from bench.server import RssSampler


class _Sink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return len(data)


def run(bench, server, imports_path: str) -> None:
    wanted = set(bench.cfg.scenarios)
    if not wanted or wanted & {"export_csv", "export_json"}:
        export(bench, server)
    if not wanted or "import" in wanted:
        import_(bench, server, imports_path)


def _rows_run(rows: int, seconds: float, **extra) -> dict:
    return {"rps": round(rows / seconds, 1), "seconds": round(seconds, 3), "rows": rows, **extra}


# --- Export -------------------------------------------------------------------------------------


def export(bench, server) -> None:
    user = bench.layout.export_user
    rows = bench.layout.export_rows
    entries = {
        kind: {
            "name": f"export_{kind}",
            "title": f"export {kind} ({rows:,} rows)",
            "unit": "rows/s",
            "rounds": [],
            "checks": {},
        }
        for kind in ("csv", "json")
    }
    bench.results["scenarios"].extend(entries.values())
    peaks = {"csv": 0.0, "json": 0.0}
    expected_lines = {"csv": rows + 1, "json": rows + 3}
    for number in range(bench.cfg.rounds):
        runs = {}
        for kind in ("csv", "json"):
            with RssSampler(server) as sampler:
                got = load.stream(server.url + export_path(kind), headers=bench.jwt(user))
            peaks[kind] = max(peaks[kind], sampler.peak_mb)
            runs[kind] = _rows_run(
                rows, got["seconds"], bytes=got["bytes"], non_2xx=int(got["status"] != 200)
            )
            entries[kind]["checks"]["all_rows"] = got["lines"] == expected_lines[kind]
        got = load.stream(
            server.url + "/bench/floor/export_csv/", headers={"X-Bench-User": str(user)}
        )
        view = _rows_run(rows, got["seconds"], non_2xx=int(got["status"] != 200))
        sql = _rows_run(rows, copy_out(bench, user))
        peers = {}  # the lean peers' CSV export (bench/peers/)
        for name, got in bench.peer_exports(user).items():
            peers[name] = _rows_run(rows, got["seconds"], non_2xx=int(got["status"] != 200))
            entries["csv"]["checks"][f"{name}_all_rows"] = got["lines"] == expected_lines["csv"]
        for kind in ("csv", "json"):
            entries[kind]["rounds"].append(
                {
                    "cashman": runs[kind],
                    "view": view,
                    "sql": sql,
                    **(peers if kind == "csv" else {}),
                }
            )
        bench.log(
            f"export round {number + 1}: csv {runs['csv']['rps']:,.0f} rows/s, json "
            f"{runs['json']['rps']:,.0f}, view {view['rps']:,.0f}, COPY {sql['rps']:,.0f}"
            + "".join(f", {name} {run['rps']:,.0f}" for name, run in peers.items())
        )
    for kind in ("csv", "json"):
        entries[kind]["peak_rss_mb"] = peaks[kind]
    entries["csv"]["worker_vmhwm_mb"] = round(server.worker_hwm_mb(), 1)


def copy_out(bench, user: int) -> float:
    """Seconds for COPY (the export's own SELECT) TO STDOUT, read and thrown away."""
    statement = bench.captures["export_csv"].statements[-1]
    with bench.conn.cursor() as cursor:
        query = cursor.mogrify(statement.sql, sqlcapture.bind(statement.params, uid=user)).decode()
        started = time.monotonic()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", _Sink())
        seconds = time.monotonic() - started
    bench.conn.rollback()
    return seconds


# --- Import -------------------------------------------------------------------------------------


def import_rows(count: int, today: datetime.date, seed_value: int = 7) -> list[tuple]:
    """(date, description, amount, category) rows, none a duplicate of another."""
    rng = random.Random(seed_value)
    out = []
    for n in range(count):
        day = (today - datetime.timedelta(days=rng.randrange(seed.DAYS))).isoformat()
        if rng.random() < 0.2:
            description, category = seed.INCOMES[rng.randrange(len(seed.INCOMES))]
            cents = rng.randint(50_00, 5000_00)
        else:
            description, category = seed.EXPENSES[rng.randrange(len(seed.EXPENSES))]
            cents = -rng.randint(1_00, 300_00)
        name = "" if category is None else seed.CATEGORIES[category]
        out.append((day, f"{description} #{n}", seed._money(cents), name))
    return out


def import_(bench, server, imports_path: str) -> None:
    user = bench.layout.import_user
    count = bench.cfg.import_rows
    rows = import_rows(count, bench.today)
    csv_bytes = (
        "date,description,amount,category\n"
        + "".join(f"{d},{desc},{amount},{cat}\n" for d, desc, amount, cat in rows)
    ).encode()
    entry = {
        "name": "import",
        "title": f"import CSV ({count:,} rows)",
        "unit": "rows/s",
        "rounds": [],
        "checks": {},
    }
    bench.results["scenarios"].append(entry)
    peak = 0.0
    for number in range(bench.cfg.rounds):
        clear(bench)
        with RssSampler(server) as sampler:
            status, job, seconds = load.upload(
                server.url + imports_path,
                headers=bench.jwt(user),
                name="bench.csv",
                content=csv_bytes,
            )
        peak = max(peak, sampler.peak_mb)
        with load.request(
            server.url + f"{imports_path}{job['id']}/", headers=bench.jwt(user)
        ) as answer:
            done = json.loads(answer.read())
        ok = done["status"] == "succeeded" and done["created_count"] == count
        entry["checks"]["all_rows_created"] = ok
        cashman = _rows_run(count, seconds, non_2xx=int(status != 202), job_status=done["status"])
        clear(bench)
        sql = _rows_run(count, copy_in(bench, user, rows))
        entry["rounds"].append({"cashman": cashman, "sql": sql})
        bench.log(
            f"import round {number + 1}: Cashman {cashman['rps']:,.0f} rows/s "
            f"({seconds:.1f} s, {done['status']}), COPY {sql['rps']:,.0f} rows/s"
        )
    clear(bench)
    entry["peak_rss_mb"] = peak


def clear(bench) -> None:
    with bench.conn, bench.conn.cursor() as cursor:
        seed.clear_import_user(cursor, bench.layout)


def copy_in(bench, user: int, rows: list[tuple]) -> float:
    """Seconds for COPY of the same rows (same columns Cashman fills, categories made first),
    into the user's personal ledger and its "Main" account (both of the user's id, bench/seed.py),
    as the import without an account named puts them."""
    from ledger.bulk import content_fingerprint

    now = datetime.datetime.now(datetime.UTC).isoformat()
    with bench.conn, bench.conn.cursor() as cursor:
        ids = {}
        for name in seed.CATEGORIES:
            cursor.execute(
                "INSERT INTO ledger_category (ledger_id, name, created_at, version)"
                " VALUES (%s, %s, now(), 1) RETURNING id",
                [user, name],
            )
            ids[name] = cursor.fetchone()[0]
    lines = []
    for day, description, amount, category in rows:
        type_ = "EXPENSE" if amount.startswith("-") else "INCOME"
        fingerprint = content_fingerprint(date=day, amount=Decimal(amount), description=description)
        category_id = ids.get(category, r"\N") if category else r"\N"
        lines.append(
            f"{user}\t{user}\t{user}\t{type_}\t{description}\t{amount}\t{day}\t{category_id}\t"
            f"pending\t{now}\t{now}\t1\t{fingerprint}\n"
        )
    data = io.StringIO("".join(lines))
    with bench.conn, bench.conn.cursor() as cursor:
        started = time.monotonic()
        cursor.copy_expert(
            "COPY ledger_transaction (ledger_id, account_id, created_by_id, type, description,"
            " amount, date, category_id, status, created_at, updated_at, version, fingerprint)"
            " FROM STDIN",
            data,
        )
    return time.monotonic() - started

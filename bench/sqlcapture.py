"""The SQL Cashman issues for each scenario, captured from a real request through Django's test
client against the benchmark database, and stored so that the floors replay exactly it.

Parameters are stored with their type. The capture user's id becomes a placeholder (`uid`), so a
floor replays the statements for whichever user it serves; in the create scenario the new row's
id becomes `ref` (taken from the INSERT's RETURNING) and timestamps become `now`.

A scoped list names the user's ledgers (`ledger_id IN (%s, ...)`, sorted as `ledger.scope` sorts
them). A personal ledger has its user's id (bench/seed.py), so it is `uid`; the capture user's
other ledgers, when given, become `ledger` placeholders with their place among that user's sorted
ledgers. A replay puts in the ledgers of the user it serves, in the same places: the raw-SQL
floor reads them from the memberships statement it has just run, as Cashman does; a pgbench
script computes them from the user's id (`pgbench_script`'s `ledgers`).
"""

import datetime
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

UID_SENTINEL = 2_147_480_001  # stands for the user id in pgbench scripts
REF_SENTINEL = 2_147_480_002  # stands for the created row's id
LEDGER_SENTINEL = 2_147_480_100  # plus its place: stands for one of the user's ledger ids
#: How the statement reading a user's ledgers begins (`ledger.scope.roles`).
LEDGERS_READ = 'SELECT "ledger_membership"."ledger_id"'


@dataclass
class Statement:
    sql: str
    params: list[dict[str, Any]] = field(default_factory=list)

    @property
    def returns_created_id(self) -> bool:
        return self.sql.startswith('INSERT INTO "ledger_transaction"') and "RETURNING" in self.sql

    @property
    def is_count(self) -> bool:
        """A list's count (a COUNT, or a sum of the rollups' counts), which the paginator skips
        after a short first page."""
        return self.sql.startswith(("SELECT COUNT(*)", ROLLUP_COUNT))

    @property
    def touches_transactions(self) -> bool:
        return '"ledger_transaction"' in self.sql

    @property
    def reads_ledgers(self) -> bool:
        """The user's memberships: their ledgers' ids are its rows' first column."""
        return self.sql.startswith(LEDGERS_READ)


ROLLUP_COUNT = 'SELECT SUM("ledger_monthtotal"."transactions")'


@dataclass
class Capture:
    name: str
    method: str
    path: str
    status: int
    statements: list[Statement]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "statements": [{"sql": s.sql, "params": s.params} for s in self.statements],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Capture":
        statements = [Statement(s["sql"], s["params"]) for s in data["statements"]]
        return cls(data["name"], data["method"], data["path"], data["status"], statements)


# --- Parameters -------------------------------------------------------------------------------


def encode_param(
    value: Any, *, uid: int, created_id: int | None = None, ledgers: Sequence[int] = ()
) -> dict[str, Any]:
    """A parameter as stored: `ledgers` are the capture user's ledger ids, sorted."""
    if isinstance(value, bool) or value is None:
        return {"t": "raw", "v": value}
    if isinstance(value, int):
        if value == uid:
            return {"t": "uid"}
        if created_id is not None and value == created_id:
            return {"t": "ref"}
        if value in ledgers:
            return {"t": "ledger", "i": list(ledgers).index(value)}
        return {"t": "raw", "v": value}
    if isinstance(value, datetime.datetime):
        return {"t": "now"}
    if isinstance(value, datetime.date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, Decimal):
        return {"t": "decimal", "v": str(value)}
    if isinstance(value, str):
        return {"t": "raw", "v": value}
    raise TypeError(f"cannot store a parameter of type {type(value).__name__}")


def bind(
    params: list[dict[str, Any]],
    *,
    uid: int,
    ref: int | None = None,
    now=None,
    ledgers: Sequence[int] | None = None,
) -> list:
    """The parameters for one replay: the user's id, the created row's id, the current time, the
    user's ledger ids (sorted, as read by the statement that `reads_ledgers`)."""
    out: list[Any] = []
    for p in params:
        kind = p["t"]
        if kind == "uid":
            out.append(uid)
        elif kind == "ledger":
            if ledgers is None or p["i"] >= len(ledgers):
                raise ValueError(
                    f"user {uid}'s ledger number {p['i'] + 1} is needed, but "
                    f"{'no ledgers were read' if ledgers is None else f'they have {len(ledgers)}'}"
                )
            out.append(ledgers[p["i"]])
        elif kind == "ref":
            out.append(ref)
        elif kind == "now":
            out.append(now or datetime.datetime.now(datetime.UTC))
        elif kind == "date":
            out.append(datetime.date.fromisoformat(p["v"]))
        elif kind == "decimal":
            out.append(Decimal(p["v"]))
        else:
            out.append(p["v"])
    return out


# --- Capturing ----------------------------------------------------------------------------------


@contextmanager
def recording() -> Iterator[list[tuple[str, Any]]]:
    """Every (sql, params) the default connection executes inside the block."""
    from django.db import connection

    seen: list[tuple[str, Any]] = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def capture(
    client,
    name: str,
    method: str,
    path: str,
    *,
    uid: int,
    token: str | None = None,
    body: Any = None,
    ledgers: Sequence[int] = (),
) -> tuple[Capture, Any]:
    """Send one request as user `uid` and keep the SQL it issued; also returns the response.

    With the user's JWT (`token`) for Cashman; without one, the request names its user with
    `X-Bench-User`, as the floor views expect. `ledgers`: the user's ledger ids, sorted, which
    become placeholders (all but a personal ledger of the user's own id, which is `uid`).
    """
    if token is not None:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    else:
        headers = {"HTTP_X_BENCH_USER": str(uid)}
    with recording() as seen:
        if method == "GET":
            response = client.get(path, **headers)
        else:
            response = client.generic(
                method, path, json.dumps(body), content_type="application/json", **headers
            )
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # the export's queries run while streaming
    created_id = None
    if method == "POST" and response.status_code == 201:
        created_id = response.json()["id"]
    statements = []
    for sql, params in seen:
        encoded = [
            encode_param(p, uid=uid, created_id=created_id, ledgers=ledgers) for p in params or ()
        ]
        statements.append(Statement(sql, encoded))
    _check_uid_unambiguous(seen, uid)
    for ledger in ledgers:
        _check_uid_unambiguous(seen, ledger)
    return Capture(name, method, path, response.status_code, statements), response


def _check_uid_unambiguous(seen: list[tuple[str, Any]], uid: int) -> None:
    """Every int parameter equal to the user's id (or one of their ledgers') must be it: the
    replay swaps them. None may be inlined in the SQL, where the replay could not."""
    for sql, _params in seen:
        if f"= {uid}" in sql or f"({uid})" in sql:
            raise ValueError(f"id {uid} is inlined in captured SQL: {sql[:200]}")


def save(captures: dict[str, Capture], path: Path, *, uid: int) -> None:
    data = {"capture_user": uid, "scenarios": {k: c.as_dict() for k, c in captures.items()}}
    path.write_text(json.dumps(data, indent=1))


def load(path: Path | str) -> dict[str, Capture]:
    data = json.loads(Path(path).read_text())
    return {k: Capture.from_dict(v) for k, v in data["scenarios"].items()}


# --- The SQL floor: pgbench scripts -------------------------------------------------------------


def pgbench_script(
    capture: Capture, cursor, *, users: int, first_user: int = 1, ledgers: Sequence[str] = ()
) -> str:
    """A pgbench script issuing the captured statements for a random user in first_user..users.

    `cursor` is a psycopg2 cursor, used only to quote the parameters as psycopg2 would.
    `ledgers`: for each place among a user's sorted ledgers, a pgbench expression of its id in
    terms of `:uid` (needed when a statement has `ledger` placeholders).
    """
    lines = [f"\\set uid random({first_user}, {users})"]
    wanted = sorted({p["i"] for s in capture.statements for p in s.params if p["t"] == "ledger"})
    for place in wanted:
        if place >= len(ledgers):
            raise ValueError(f"{capture.name}: no pgbench expression for ledger {place + 1}")
        lines.append(f"\\set ledger_{place} {ledgers[place]}")
    writes = capture.method != "GET"
    if writes:
        lines.append("BEGIN;")
    sentinels = [LEDGER_SENTINEL + place for place in range(len(ledgers))]
    for statement in capture.statements:
        params = bind(statement.params, uid=UID_SENTINEL, ref=REF_SENTINEL, ledgers=sentinels)
        text = cursor.mogrify(statement.sql, params).decode()
        text = text.replace(str(UID_SENTINEL), ":uid").replace(str(REF_SENTINEL), ":new_id")
        for place in wanted:
            text = text.replace(str(LEDGER_SENTINEL + place), f":ledger_{place}")
        text = " ".join(text.split())
        if statement.returns_created_id:
            lines.append(f"{text}")
            lines.append("\\gset new_")
        else:
            lines.append(f"{text};")
    if writes:
        lines.append("COMMIT;")
    return "\n".join(lines) + "\n"

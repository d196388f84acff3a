"""What both peers share: the token check, and Cashman's captured statements replayed for the
token's user (bench/sqlcapture.py, the same capture and parameter substitution as the raw-SQL
floor), so a peer issues whatever Cashman issued for a scenario, statement for statement.

A replay is a generator, `Replay.statements`, so that a synchronous peer (psycopg2) and an
asynchronous one (asyncpg) run the same steps: it yields each statement with its parameters, is
sent back the statement's rows (mappings), and returns an `Answer`. Its first statement is
Cashman's user lookup, whose row it checks as `accounts.authentication` does.

Values a request gives (a list's filters, a created row's fields) are bound in place of the ones
the captured request gave: each peer parses the captured request with its own schema or model at
start, and every request with the same, so both sides of the substitution are read alike.
"""

import datetime
import json
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import jwt

from bench import sqlcapture

#: Cashman's REST_FRAMEWORK["PAGE_SIZE"]: a shorter first page is the whole list, uncounted.
PAGE_SIZE = 50
#: The captures the peers serve (bench/scenarios.py: the scenarios with peers).
SERVED = ("list", "list_search", "summary_cold", "create", "export_csv")
USER_LOOKUP = 'SELECT "accounts_user".'
CSV_HEADER = ("date", "type", "description", "amount", "category", "external_id")

Route = tuple[str, str, frozenset[str]]
Rows = list[Mapping[str, Any]]


class Unauthorized(Exception):
    """A 401: no token, a bad one, or its user gone, inactive or revoked."""


def verify(token: str, key: str) -> dict[str, Any]:
    """The claims of a valid access token, checked as simplejwt checks one: HS256, unexpired, an
    id, a user and the access type."""
    try:
        claims = jwt.decode(
            token, key, algorithms=["HS256"], options={"require": ["exp", "jti", "user_id"]}
        )
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"Given token not valid: {exc}") from exc
    if claims.get("token_type") != "access":
        raise Unauthorized("Given token not valid for any token type")
    return claims


def check_user(rows: Rows, claims: Mapping[str, Any]) -> None:
    """The user row's checks, as `accounts.authentication.JWTAuthentication.get_user`'s."""
    if not rows:
        raise Unauthorized("User not found")
    if not rows[0]["is_active"]:
        raise Unauthorized("User is inactive")
    if claims.get("gen", 0) != rows[0]["token_generation"]:
        raise Unauthorized("This token was revoked (password change or deactivation).")


@dataclass
class Answer:
    rows: Rows = field(default_factory=list)  # the last SELECT's (the page, the summary...)
    count: int | None = None
    created_id: int | None = None
    now: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    #: With `stream=True`: the last statement and its parameters, for the peer to stream.
    tail: tuple[sqlcapture.Statement, list] | None = None

    @property
    def total(self) -> int:
        """A list's count: a short first page is the whole list (Cashman's paginator)."""
        return self.count if self.count is not None else len(self.rows)


def _key(value: Any) -> tuple[type, Any]:
    return type(value), value


def like(text: str) -> str:
    """A search as Django's `icontains` puts it in the SQL: anywhere in the text, escaped."""
    for char in ("\\", "%", "_"):
        text = text.replace(char, "\\" + char)
    return f"%{text}%"


def sql_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a request's fields put in the statements."""
    return {k: like(v) if k == "search" else v for k, v in values.items() if v is not None}


@dataclass
class Replay:
    capture: sqlcapture.Capture
    captured: dict[str, Any]  # what the captured request gave, as a peer parses it

    def __post_init__(self) -> None:
        if not self.capture.statements[0].sql.startswith(USER_LOOKUP):
            raise ValueError(f"{self.capture.name}: the first statement is not the user lookup")
        self.captured = sql_values(self.captured)

    def statements(
        self, claims: Mapping[str, Any], values: Mapping[str, Any] | None = None, *, stream=False
    ) -> Generator[tuple[sqlcapture.Statement, list], Rows, Answer]:
        uid = int(claims["user_id"])
        given = sql_values(values or {})
        swap = {_key(v): given[k] for k, v in self.captured.items() if k in given}
        user, *rest = self.capture.statements
        check_user((yield user, sqlcapture.bind(user.params, uid=uid)), claims)
        answer = Answer()
        ledgers: list[int] | None = None
        for number, statement in enumerate(rest, 1):
            if statement.is_count and len(answer.rows) < PAGE_SIZE:
                continue  # Cashman's paginator counts a first page only when it is full
            params = sqlcapture.bind(
                statement.params, uid=uid, ref=answer.created_id, now=answer.now, ledgers=ledgers
            )
            params = [swap.get(_key(p), p) for p in params] if swap else params
            if stream and number == len(rest):
                answer.tail = (statement, params)
                break
            rows = yield statement, params
            if statement.reads_ledgers:
                ledgers = sorted(next(iter(row.values())) for row in rows)
            elif statement.returns_created_id:
                answer.created_id = next(iter(rows[0].values()))
            elif statement.is_count:
                answer.count = next(iter(rows[0].values()))
            elif statement.sql.startswith("SELECT"):
                answer.rows = rows
        return answer


def route(method: str, path: str, query: Iterable[str]) -> Route:
    return method, path, frozenset(query)


def served(
    path: str,
    parse_query: Callable[[dict], Mapping[str, Any]],
    parse_body: Callable[[dict], Mapping[str, Any]],
    body: dict | None,
) -> dict[Route, Replay]:
    """The served captures of the harness's file, by the request each answers (method, path and
    the names of its query's parameters). `body`: the JSON the create scenario posts."""
    out = {}
    for name, capture in sqlcapture.load(path).items():
        if name not in SERVED:
            continue
        url = urlsplit(capture.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        captured = parse_body(body or {}) if capture.method == "POST" else parse_query(query)
        out[route(capture.method, url.path, query)] = Replay(capture, dict(captured))
    return out


def drive(steps: Generator, execute: Callable[[sqlcapture.Statement, list], Rows]) -> Answer:
    """Run a replay's statements with `execute(statement, params) -> rows`."""
    try:
        rows = execute(*next(steps))
        while True:
            rows = execute(*steps.send(rows))
    except StopIteration as done:
        return done.value


async def adrive(steps: Generator, execute) -> Answer:
    """`drive`, with `await execute(statement, params)`."""
    try:
        rows = await execute(*next(steps))
        while True:
            rows = await execute(*steps.send(rows))
    except StopIteration as done:
        return done.value


# --- Answers ------------------------------------------------------------------------------------


def page_link(url: str, count: int) -> str | None:
    """The next page's link of a first page, as DRF writes it (its query sorted)."""
    if count <= PAGE_SIZE:
        return None
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params["page"] = ["2"]
    query = urlencode(sorted(params.items()), doseq=True)
    return urlunsplit((scheme, netloc, path, query, fragment))


#: A summary row's totals, each summed in whole cents by the statement.
TOTALS = ("income", "expense", "balance", "transfers_in", "transfers_out")


def cents(value: int | Decimal) -> Decimal:
    """An amount from a number of cents."""
    return Decimal(value).scaleb(-2)


def month(row: Mapping[str, Any]) -> str:
    """A summary row's month, `YYYY-MM`."""
    start = next(row[k] for k in ("month_start", "month", "date") if k in row)
    return start if isinstance(start, str) else start.isoformat()[:7]


def signed(type_: str, value: Decimal) -> Decimal:
    """Cashman's sign rule: an expense is stored negative and is not zero, an income positive."""
    if value == 0 or (type_ == "INCOME" and value < 0):
        raise ValueError("An income must be positive, an expense not zero.")
    return -abs(value) if type_ == "EXPENSE" else value


def created(answer: Answer, body: Mapping[str, Any]) -> dict[str, Any]:
    """The created row, as Cashman answers it: the body, in the default account (the row the
    replay read last), and the row's id and time."""
    account = answer.rows[0]
    return {
        "id": answer.created_id,
        **body,
        "category": None,
        "category__name": None,
        "account": account["id"],
        "ledger": account["ledger_id"],
        "status": "pending",
        "transfer": None,
        "schedule": None,
        "occurrence_date": None,
        "created_at": answer.now,
        "updated_at": answer.now,
    }


def csv_fields(row: Mapping[str, Any]) -> tuple:
    """An exported row's CSV fields, as Cashman's export and the raw-SQL floor write them."""
    return (
        row["date"].isoformat(),
        row["type"],
        row["description"],
        row["amount"],
        row["category__name"] or "",
        row["external_id"],
    )


class Line:
    """A file for csv.writer whose write hands back the line."""

    def write(self, value: str) -> str:
        return value


def create_body(text: str | None) -> dict | None:
    return json.loads(text) if text else None

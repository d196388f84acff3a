"""Floor views: bare Django views doing the SQL work Cashman does for each scenario and answering
with JsonResponse. No DRF, no serializer, no JWT: the user is named by an `X-Bench-User` header,
which only the benchmark's URLconf accepts. Two kinds:

- `orm` (`/bench/orm/<scenario>/`): the view a Django developer would write, building the same
  queries with the ORM (the user lookup authentication does, the user's ledgers, the page, the
  count, the aggregate, the insert, to which the model's signals add the history row, and the
  raise of the ledger generation of every member of the ledger written). The harness checks,
  before measuring, that each issues the very statements Cashman issued
  (`orm_statements_match`).

Both scope by ledger as Cashman does: the rows of the ledgers the user is a member of. They read
the user's ledgers first (`ledger.scope.roles`: one query of their memberships, or none when
their cached answers hold them) and filter `ledger_id IN (...)` with their ids. Counts and
summaries read the rollups (`ledger_monthtotal`), as Cashman does. The seed gives user u the personal ledger u
(bench/seed.py), so the raw floor replays a captured ledger id as the user's id; a user's other
ledgers (`list_3_ledgers`) it takes from the rows of the memberships statement it has just run, as
Cashman takes them from `ledger.scope.roles`, sorted, in the places they had in the capture.
- `raw` (`/bench/floor/<scenario>/`): replays the SQL Cashman issued, captured by
  bench/sqlcapture.py, through a bare cursor: no ORM at all.

What they share with Cashman: the whole middleware stack and settings, the database connection
and every SQL statement.
"""

import csv
import datetime
import functools
import json
from collections.abc import Callable, Iterator
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from bench import sqlcapture
from cashman_site.serializers import value_columns
from ledger import scope
from ledger.choices import TransactionType
from ledger.models import Account, MonthTotal, Transaction
from ledger.serializers import TransactionSerializer
from ledger.services import unit_of_work

EXPORT_CHUNK = 2000
PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]
RENAMES = {"name": "category_name", "category__name": "category_name", "category_id": "category"}


@functools.cache
def captures() -> dict[str, sqlcapture.Capture]:
    return sqlcapture.load(settings.BENCH_SQL_FILE)


def _names(cursor) -> list[str]:
    return [RENAMES.get(col.name, col.name) for col in cursor.description]


def replay(capture: sqlcapture.Capture, uid: int) -> dict:
    """Run the captured statements for `uid`; the count, the last rows and the created id."""
    out: dict = {"count": None, "rows": [], "id": None}
    now = datetime.datetime.now(datetime.UTC)
    ledgers: list[int] | None = None  # the user's, once their memberships are read
    with connection.cursor() as cursor:
        for statement in capture.statements:
            if statement.is_count and len(out["rows"]) < PAGE_SIZE:
                continue  # Cashman's paginator counts a first page only when it is full
            params = sqlcapture.bind(
                statement.params, uid=uid, ref=out["id"], now=now, ledgers=ledgers
            )
            cursor.execute(statement.sql, params)
            if cursor.description is None:
                continue
            rows = cursor.fetchall()
            if statement.reads_ledgers:
                ledgers = sorted(row[0] for row in rows)  # as ledger.scope sorts them
            elif statement.returns_created_id:
                out["id"] = rows[0][0]
            elif statement.is_count:
                out["count"] = rows[0][0]
            elif not statement.sql.startswith("INSERT"):
                names = _names(cursor)
                out["rows"] = [dict(zip(names, row, strict=True)) for row in rows]
    if _is_list(capture) and out["count"] is None and len(out["rows"]) < PAGE_SIZE:
        out["count"] = len(out["rows"])  # a short page is the last: its rows are the count
    return out


def _is_list(capture: sqlcapture.Capture) -> bool:
    return capture.method == "GET" and capture.path.startswith("/api/v1/transactions/")


def _export(capture: sqlcapture.Capture, uid: int) -> Iterator[str]:
    """The export's own statements, the last one streamed through a server-side cursor."""
    *before, last = capture.statements
    with connection.cursor() as cursor:
        for statement in before:
            cursor.execute(statement.sql, sqlcapture.bind(statement.params, uid=uid))
    line = _Line()
    writer = csv.writer(line)
    yield writer.writerow(["date", "type", "description", "amount", "category", "external_id"])
    with connection.chunked_cursor() as cursor:
        cursor.execute(last.sql, sqlcapture.bind(last.params, uid=uid))
        while rows := cursor.fetchmany(EXPORT_CHUNK):
            # Then the account, ledger, status and transfer, which the CSV leaves out.
            for _id, date, type_, description, amount, category, external_id, *_ in rows:
                yield writer.writerow(
                    [date.isoformat(), type_, description, amount, category or "", external_id]
                )


class _Line:
    def write(self, value: str) -> str:
        return value


@csrf_exempt
def floor(request: HttpRequest, scenario: str):
    try:
        uid = int(request.headers["X-Bench-User"])
        capture = captures()[scenario]
    except (KeyError, ValueError):
        return JsonResponse({"detail": "Unknown scenario or no X-Bench-User."}, status=400)
    if scenario.startswith("export"):
        return StreamingHttpResponse(_export(capture, uid), content_type="text/csv")
    if capture.method == "POST":
        json.loads(request.body)  # read the body, as a real create would
        with transaction.atomic():
            result = replay(capture, uid)
        return JsonResponse({"id": result["id"]}, status=201)
    result = replay(capture, uid)
    if _is_list(capture):
        return JsonResponse({"count": result["count"], "results": result["rows"]})
    return JsonResponse(result["rows"], safe=False)


# --- the ORM floor ----------------------------------------------------------------------------


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, encoder=DjangoJSONEncoder)


def _user(uid: int) -> User:
    return User.objects.get(pk=uid)  # what authentication reads


def _ledgers(user: User) -> list[int]:
    """The ids of the user's ledgers: their memberships, read once per generation of their cached
    answers, as Cashman reads them (`ledger.scope`)."""
    return sorted(scope.roles(user))


def _transactions(request: HttpRequest, user: User) -> QuerySet:
    rows = Transaction.objects.filter(ledger__in=_ledgers(user)).select_related("category")
    if "date_after" in request.GET:
        rows = rows.filter(date__gte=datetime.date.fromisoformat(request.GET["date_after"]))
    if "date_before" in request.GET:
        rows = rows.filter(date__lte=datetime.date.fromisoformat(request.GET["date_before"]))
    if "search" in request.GET:
        rows = rows.filter(description__icontains=request.GET["search"])
    return rows.order_by("-date", "-id").values(*value_columns(TransactionSerializer))


def _rollup_count(user: User) -> int:
    """How many transactions the user's ledgers hold, from their rollups by month."""
    months = MonthTotal.objects.order_by().filter(ledger__in=_ledgers(user))
    return months.aggregate(n=Sum("transactions"))["n"] or 0


def _orm_list(request: HttpRequest, uid: int, *, count: bool = True) -> HttpResponse:
    user = _user(uid)
    rows = _transactions(request, user)
    page = list(rows[:PAGE_SIZE])
    if not count:  # Cashman has the count in its cache: the floor skips it
        return _json({"count": None, "results": page})
    # As Cashman's paginator: the page first, and a count only when the page is full, added up
    # from the rollups unless a search needs the rows.
    if len(page) < PAGE_SIZE:
        total = len(page)
    else:
        total = rows.count() if "search" in request.GET else _rollup_count(user)
    return _json({"count": total, "results": page})


def _cents(column, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(column, filter=condition), Value(0))


def _orm_summary(request: HttpRequest, uid: int) -> HttpResponse:
    user = _user(uid)
    # The rollups by month of the user's ledgers: incomes are positive, expenses negative.
    transfer = Q(type=TransactionType.TRANSFER)
    rows = (
        MonthTotal.objects.order_by()
        .filter(ledger__in=_ledgers(user))
        .annotate(month_start=F("date"))
        .values("month_start")
        .annotate(
            income=_cents("inflow", Q(type=TransactionType.INCOME)),
            expense=_cents("outflow", Q(type=TransactionType.EXPENSE)),
            balance=_cents(F("inflow") + F("outflow"), ~transfer),  # a transfer is neither
            transfers_in=_cents("inflow", transfer),
            transfers_out=_cents("outflow", transfer),
            count=_cents("transactions"),
        )
    )
    return _json(sorted(rows, key=lambda row: row["month_start"], reverse=True))


def _orm_create(request: HttpRequest, uid: int) -> HttpResponse:
    body = json.loads(request.body)
    user = _user(uid)
    # No account named: the first open account of the user's personal ledger.
    account = (
        Account.objects.filter(archived=False)
        .order_by("id")
        .filter(ledger__personal_for=user)
        .first()
    )
    if account is None:
        return _json({"detail": "No open account."}, status=400)
    created = Transaction(
        ledger_id=account.ledger_id,
        account=account,
        created_by=user,
        type=body["type"],
        description=body["description"],
        amount=-abs(Decimal(body["amount"])),
        date=datetime.date.fromisoformat(body["date"]),
    )
    created._history_user = user  # type: ignore[attr-defined]  # who made it, as Cashman records
    # A transaction that raises the generation of the ledger's members before it commits.
    with unit_of_work(account.ledger_id):
        created.save()  # simple-history's signal adds the history row
    return _json({"id": created.pk}, status=201)


ORM_FLOORS: dict[str, Callable[[HttpRequest, int], HttpResponse]] = {
    "list": _orm_list,
    "list_search": _orm_list,
    "list_3_ledgers": _orm_list,  # the same view: the user's ledgers are read, whatever their number
    "list_cached": functools.partial(_orm_list, count=False),
    "summary_cold": _orm_summary,
    "create": _orm_create,
}


@csrf_exempt
def orm_floor(request: HttpRequest, scenario: str) -> HttpResponse:
    try:
        uid = int(request.headers["X-Bench-User"])
        view = ORM_FLOORS[scenario]
    except (KeyError, ValueError):
        return JsonResponse({"detail": "Unknown scenario or no X-Bench-User."}, status=400)
    return view(request, uid)


def orm_path(scenario_path: str, floor: str) -> str:
    """The ORM floor's URL for a scenario: its own path, the scenario's query string."""
    query = scenario_path.partition("?")[2]
    return f"/bench/orm/{floor}/" + (f"?{query}" if query else "")


def orm_statements_match(cashman: sqlcapture.Capture, orm: sqlcapture.Capture) -> bool:
    """The ORM floor issued the statements Cashman issued, in order (parameters may differ:
    the history row's user, the timestamps)."""
    return [s.sql for s in cashman.statements] == [s.sql for s in orm.statements]

"""Floor views: bare Django views issuing the same SQL Cashman issued for each scenario (captured
by bench/sqlcapture.py) and answering with JsonResponse. No DRF, no serializer, no JWT: the user
is named by an `X-Bench-User` header, which only the benchmark's URLconf accepts.

What they share with Cashman: the whole middleware stack and settings, the database connection
and every SQL statement, including the user lookup that authentication does.
"""

import csv
import datetime
import functools
import json
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from bench import sqlcapture

EXPORT_CHUNK = 2000
PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]
RENAMES = {"name": "category_name", "category_id": "category"}


@functools.cache
def captures() -> dict[str, sqlcapture.Capture]:
    return sqlcapture.load(settings.BENCH_SQL_FILE)


def _names(cursor) -> list[str]:
    return [RENAMES.get(col.name, col.name) for col in cursor.description]


def replay(capture: sqlcapture.Capture, uid: int) -> dict:
    """Run the captured statements for `uid`; the count, the last rows and the created id."""
    out: dict = {"count": None, "rows": [], "id": None}
    now = datetime.datetime.now(datetime.UTC)
    with connection.cursor() as cursor:
        for statement in capture.statements:
            params = sqlcapture.bind(statement.params, uid=uid, ref=out["id"], now=now)
            sql = statement.sql
            if out["count"] is not None and statement.is_page:
                if out["count"] == 0:
                    continue  # Django's paginator sends no query for an empty first page
                # Django's paginator asks for no more rows than the count: LIMIT depends on it.
                sql = sqlcapture.with_limit(sql, min(out["count"], PAGE_SIZE))
            cursor.execute(sql, params)
            if cursor.description is None:
                continue
            rows = cursor.fetchall()
            if statement.returns_created_id:
                out["id"] = rows[0][0]
            elif statement.sql.startswith("SELECT COUNT(*)"):
                out["count"] = rows[0][0]
            elif not statement.sql.startswith("INSERT"):
                names = _names(cursor)
                out["rows"] = [dict(zip(names, row, strict=True)) for row in rows]
    return out


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
            for _id, date, type_, description, amount, category, external_id in rows:
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
    if capture.path.startswith("/api/v1/transactions/"):
        return JsonResponse({"count": result["count"], "results": result["rows"]})
    return JsonResponse(result["rows"], safe=False)

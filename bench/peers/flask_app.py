"""The lean Flask peer: Flask, marshmallow and psycopg2, served by gunicorn's sync workers
(`gunicorn -w N 'bench.peers.flask_app:create_app()'`, bench/peers/servers.py).

Per request it does what Cashman does: checks the bearer token (PyJWT), reads the user and runs
Cashman's statements for the request (`replay`), and answers Cashman's JSON through marshmallow.
Settings from the environment: DATABASE_URL, JWT_SIGNING_KEY, BENCH_SQL_FILE (the harness's
capture) and BENCH_CREATE_BODY (the JSON the create scenario posts).
"""

import csv
import datetime
import os
from contextlib import contextmanager
from decimal import Decimal

from flask import Flask, Response, abort, g, request, stream_with_context
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate
from psycopg2.extras import RealDictCursor
from psycopg2.pool import SimpleConnectionPool

from bench.peers import replay

LIMIT = Decimal("9999999999.99")  # 12 digits, 2 places


class Instant(fields.DateTime):
    """ISO 8601, UTC written `Z`, as DRF writes a time."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value.isoformat().replace("+00:00", "Z")


class Cents(fields.Field):
    """A number of cents as an amount, two places."""

    def _serialize(self, value, attr, obj, **kwargs):
        return f"{replay.cents(value):.2f}"


class TransactionSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    description = fields.String()
    amount = fields.Decimal(places=2, as_string=True)
    date = fields.Date()
    category = fields.Integer(allow_none=True)
    category_name = fields.String(attribute="category__name", allow_none=True)
    account = fields.Integer()
    ledger = fields.Integer()
    status = fields.String()
    transfer = fields.Integer(allow_none=True)
    schedule = fields.Integer(allow_none=True)
    occurrence_date = fields.Date(allow_none=True)
    created_at = Instant()
    updated_at = Instant()


class MonthSchema(Schema):
    income = Cents()
    expense = Cents()
    balance = Cents()
    transfers_in = Cents()
    transfers_out = Cents()
    count = fields.Integer()
    month = fields.Function(replay.month)


class FiltersSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    date_after = fields.Date()
    date_before = fields.Date()
    search = fields.String()


class NewTransactionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True, validate=validate.OneOf(["INCOME", "EXPENSE"]))
    description = fields.String(required=True, validate=validate.Length(min=1, max=255))
    amount = fields.Decimal(required=True, places=2, validate=validate.Range(-LIMIT, LIMIT))
    date = fields.Date(load_default=datetime.date.today)

    @post_load
    def sign(self, data, **kwargs):
        try:
            return {**data, "amount": replay.signed(data["type"], data["amount"])}
        except ValueError as exc:
            raise ValidationError(str(exc), "amount") from exc


transactions, months = TransactionSchema(many=True), MonthSchema(many=True)
filters, new_transaction, transaction = FiltersSchema(), NewTransactionSchema(), TransactionSchema()


def create_app() -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False  # Cashman's order of fields
    app.json.ensure_ascii = False
    key = os.environ["JWT_SIGNING_KEY"]
    # One connection per worker, kept open (a sync worker serves one request at a time).
    pool = SimpleConnectionPool(1, 1, os.environ["DATABASE_URL"], options="-c timezone=UTC")
    replays = replay.served(
        os.environ["BENCH_SQL_FILE"],
        filters.load,
        new_transaction.load,
        replay.create_body(os.environ.get("BENCH_CREATE_BODY")),
    )

    @contextmanager
    def connection():
        conn = pool.getconn()
        conn.autocommit = True  # as Django's: a transaction only where one is asked for
        try:
            yield conn
        finally:
            pool.putconn(conn)

    @app.before_request
    def authenticate():
        if request.path.startswith("/api/"):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            g.claims = replay.verify(token if scheme == "Bearer" else "", key)

    def replayed(values=None, **kwargs) -> replay.Answer:
        found = replays.get(replay.route(request.method, request.path, request.args))
        if found is None:
            abort(404)
        steps = found.statements(g.claims, values, **kwargs)
        with connection() as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:

            def execute(statement, params):
                cur.execute(statement.sql, params)
                return cur.fetchall() if cur.description else []

            if request.method != "POST":
                return replay.drive(steps, execute)
            with conn:  # one transaction
                return replay.drive(steps, execute)

    @app.errorhandler(replay.Unauthorized)
    def unauthorized(exc):
        return {"detail": str(exc)}, 401

    @app.errorhandler(ValidationError)
    def invalid(exc):
        return exc.normalized_messages(), 400

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/v1/transactions/")
    def transaction_list():
        answer = replayed(filters.load(request.args))
        return {
            "count": answer.total,
            "next": replay.page_link(request.url, answer.total),
            "previous": None,
            "results": transactions.dump(answer.rows),
        }

    @app.post("/api/v1/transactions/")
    def transaction_create():
        body = new_transaction.load(request.get_json())
        answer = replayed(body)
        return transaction.dump(replay.created(answer, body)), 201

    @app.get("/api/v1/summary/monthly/")
    def summary_monthly():
        return months.dump(sorted(replayed().rows, key=replay.month, reverse=True))  # newest first

    @app.get("/api/v1/export/")
    def export():
        if request.args.get("format") != "csv":
            abort(400)
        statement, params = replayed(stream=True).tail

        def lines():
            writer = csv.writer(replay.Line())
            yield writer.writerow(replay.CSV_HEADER)
            # A server-side cursor, in a transaction, read 2,000 rows at a time.
            with connection() as conn:
                conn.autocommit = False
                with conn, conn.cursor("export", RealDictCursor) as rows:
                    rows.execute(statement.sql, params)
                    while chunk := rows.fetchmany(2000):
                        for row in chunk:
                            yield writer.writerow(replay.csv_fields(row))

        return Response(stream_with_context(lines()), mimetype="text/csv")

    return app

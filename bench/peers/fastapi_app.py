"""The lean FastAPI peer: FastAPI, pydantic and asyncpg, served by uvicorn's workers
(`uvicorn bench.peers.fastapi_app:app --workers N`, bench/peers/servers.py).

Per request it does what Cashman does: checks the bearer token (PyJWT), reads the user and runs
Cashman's statements for the request (`replay`), and answers Cashman's JSON through pydantic.
Settings from the environment: DATABASE_URL, JWT_SIGNING_KEY, BENCH_SQL_FILE (the harness's
capture) and BENCH_CREATE_BODY (the JSON the create scenario posts).
"""

import csv
import datetime
import functools
import itertools
import os
import re
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Literal

import asyncpg
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    PlainSerializer,
    model_validator,
)

from bench.peers import replay

#: Connections each worker opens at most; a request holds one only while its statements run.
POOL_SIZE = 4

Money = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]


class Transaction(BaseModel):
    id: int
    type: str
    description: str
    amount: Money
    date: datetime.date
    category: int | None
    category_name: str | None = Field(
        validation_alias=AliasChoices("category__name", "category_name")
    )
    account: int
    ledger: int
    status: str
    transfer: int | None
    schedule: int | None
    occurrence_date: datetime.date | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class Page(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[Transaction]


class MonthTotals(BaseModel):
    income: Money
    expense: Money
    balance: Money
    transfers_in: Money
    transfers_out: Money
    count: int
    month: str

    @classmethod
    def of(cls, row: dict) -> "MonthTotals":
        """From a summary row, whose totals are in cents."""
        totals = {name: replay.cents(row[name]) for name in replay.TOTALS}
        return cls(**totals, count=row["count"], month=replay.month(row))


class Filters(BaseModel):
    date_after: datetime.date | None = None
    date_before: datetime.date | None = None
    search: str | None = None


class NewTransaction(BaseModel):
    type: Literal["INCOME", "EXPENSE"]
    description: str = Field(min_length=1, max_length=255)
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    date: datetime.date = Field(default_factory=datetime.date.today)

    @model_validator(mode="after")
    def sign(self) -> "NewTransaction":
        self.amount = replay.signed(self.type, self.amount)  # a ValueError is a 422
        return self


@functools.cache
def numbered(sql: str) -> str:
    """psycopg2's placeholders (`%s`, and `%%` for `%`) as asyncpg's: `$1`, `$2`..."""
    n = itertools.count(1)
    return re.sub(r"%[s%]", lambda m: f"${next(n)}" if m.group() == "%s" else "%", sql)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.key = os.environ["JWT_SIGNING_KEY"]
    app.state.replays = replay.served(
        os.environ["BENCH_SQL_FILE"],
        lambda query: Filters.model_validate(query).model_dump(exclude_none=True),
        lambda body: NewTransaction.model_validate(body).model_dump(),
        replay.create_body(os.environ.get("BENCH_CREATE_BODY")),
    )
    async with asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=1,
        max_size=POOL_SIZE,
        server_settings={"timezone": "UTC"},
    ) as app.state.pool:
        yield


app = FastAPI(lifespan=lifespan)


async def claims(
    request: Request, token: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())]
) -> dict:
    return replay.verify(token.credentials, request.app.state.key)


Claims = Annotated[dict, Depends(claims)]


@app.exception_handler(replay.Unauthorized)
async def unauthorized(request: Request, exc: replay.Unauthorized) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=401)


async def replayed(request: Request, claims: dict, values=None, **kwargs) -> replay.Answer:
    key = replay.route(request.method, request.url.path, request.query_params.keys())
    found = request.app.state.replays.get(key)
    if found is None:
        raise HTTPException(404)
    steps = found.statements(claims, values, **kwargs)
    async with request.app.state.pool.acquire() as conn:

        async def execute(statement, params):
            return [dict(row) for row in await conn.fetch(numbered(statement.sql), *params)]

        if request.method != "POST":
            return await replay.adrive(steps, execute)
        async with conn.transaction():
            return await replay.adrive(steps, execute)


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@app.get("/api/v1/transactions/")
async def transaction_list(
    request: Request, filters: Annotated[Filters, Query()], claims: Claims
) -> Page:
    answer = await replayed(request, claims, filters.model_dump(exclude_none=True))
    return Page(
        count=answer.total,
        next=replay.page_link(str(request.url), answer.total),
        previous=None,
        results=[Transaction.model_validate(row) for row in answer.rows],
    )


@app.post("/api/v1/transactions/", status_code=201)
async def transaction_create(request: Request, body: NewTransaction, claims: Claims) -> Transaction:
    values = body.model_dump()
    answer = await replayed(request, claims, values)
    return Transaction.model_validate(replay.created(answer, values))


@app.get("/api/v1/summary/monthly/")
async def summary_monthly(request: Request, claims: Claims) -> list[MonthTotals]:
    totals = [MonthTotals.of(row) for row in (await replayed(request, claims)).rows]
    return sorted(totals, key=lambda month: month.month, reverse=True)  # newest first


@app.get("/api/v1/export/")
async def export(request: Request, claims: Claims, format: Literal["csv"]) -> StreamingResponse:
    statement, params = (await replayed(request, claims, stream=True)).tail

    async def lines():
        writer = csv.writer(replay.Line())
        yield writer.writerow(replay.CSV_HEADER)
        # A cursor, in a transaction, read 2,000 rows at a time.
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            async for row in conn.cursor(numbered(statement.sql), *params, prefetch=2000):
                yield writer.writerow(replay.csv_fields(row))

    return StreamingResponse(lines(), media_type="text/csv")

"""Statements the ORM compiles once per process and runs again for another user.

Building a queryset and compiling it to SQL is the largest part of Cashman's own work on its
busiest reads: a user lookup by id took about twice as long through `User.objects.get` as the
same statement run directly and its row made into a `User`, and a page of the transaction list
about twice as long as the same statement's rows. For a query whose SQL never changes but for one
parameter (the user's id), `Statement` keeps the SQL the ORM sends and runs it again with another
value: the queryset is built for `PLACEHOLDER` in place of the id, run against a cursor that
records its first statement instead of sending it, and the parameter that holds `PLACEHOLDER` is
the one replaced. Its rows go through the ORM's own converters for their columns, so values
come back as the ORM gives them on every database (dates, decimals and booleans from SQLite).

Only a statement with exactly one `PLACEHOLDER` parameter, and no trace of it in the SQL text, is
kept; anything else is a programming error, raised when the statement is prepared.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet

#: Stands for the varying id while a statement is compiled: no row has it (ids are positive).
PLACEHOLDER = -7_263_021_487_391


class _Captured(Exception):
    def __init__(self, sql: str, params: Sequence[Any] | None) -> None:
        super().__init__(sql)
        self.sql = sql
        self.params = list(params or ())


class _RecordingCursor:
    """Stands in for a cursor: stops the ORM at the statement it would execute."""

    def __enter__(self) -> "_RecordingCursor":
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        raise _Captured(sql, params)

    def close(self) -> None:
        return None


def first_statement(queryset: QuerySet, run: Callable[[QuerySet], Any]) -> tuple[str, list[Any]]:
    """The SQL and parameters of the first statement `run(queryset)` would send. Nothing is sent
    or logged: the connection (this thread's own object) hands out a recording cursor meanwhile."""
    connection = connections[queryset.db]
    connection.cursor = connection.chunked_cursor = _RecordingCursor  # type: ignore[method-assign,assignment]
    try:
        run(queryset)
    except _Captured as captured:
        return captured.sql, captured.params
    finally:
        del connection.cursor, connection.chunked_cursor  # the class's own methods again
    raise ValueError("The queryset sent no statement.")


class Statement:
    """The statement `run(queryset)` sends, for any value in place of `PLACEHOLDER`.

    `columns` is the queryset whose select list the rows have (the same query, unsliced and
    uncounted, will do): its converters are applied to each row. None for a statement whose
    values need no conversion (a count).
    """

    def __init__(
        self,
        queryset: QuerySet,
        run: Callable[[QuerySet], Any],
        *,
        columns: QuerySet | None = None,
    ) -> None:
        self.alias = queryset.db
        self.sql, self.params = first_statement(queryset, run)
        slots = [i for i, p in enumerate(self.params) if type(p) is int and p == PLACEHOLDER]
        if len(slots) != 1 or str(PLACEHOLDER) in self.sql:
            raise ValueError(f"Expected one placeholder parameter in {self.sql!r}.")
        self.slot = slots[0]
        self.compiler = None
        self.converters: dict = {}
        if columns is not None:
            self.compiler = columns.query.get_compiler(self.alias)
            self.compiler.setup_query()
            fields = [col for col, _, _ in self.compiler.select[: self.compiler.col_count]]
            self.converters = self.compiler.get_converters(fields)

    def rows(self, value: int) -> list[Sequence[Any]]:
        """The statement's rows for `value`, converted as the ORM converts them."""
        params = self.params.copy()
        params[self.slot] = value
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            return list(self.compiler.apply_converters(rows, self.converters))  # type: ignore[union-attr]
        return rows

    @property
    def attnames(self) -> list[str]:
        """The model attribute each column holds (a model queryset's select list)."""
        return [col.target.attname for col, _, _ in self.compiler.select]  # type: ignore[union-attr]


class ModelStatement(Statement):
    """A statement selecting one model's rows, answering model instances."""

    def __init__(self, queryset: QuerySet, run: Callable[[QuerySet], Any]) -> None:
        super().__init__(queryset, run, columns=queryset)
        self.model = queryset.model
        self.names = self.attnames
        if len(self.names) != len(self.model._meta.concrete_fields):
            raise ValueError(f"{self.model.__name__}: a statement must select every column.")

    def instances(self, value: int) -> list[Model]:
        return [self.model.from_db(self.alias, self.names, row) for row in self.rows(value)]

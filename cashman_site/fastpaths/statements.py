"""Statements the ORM compiles once per process and runs again with other parameters.

Building a queryset and compiling it to SQL is the largest part of Cashman's own work on its
busiest reads: a user lookup by id took longer through `User.objects.get` than the same
statement run directly and its row made into a `User`, and a page of the transaction list longer
than the same statement's rows (bench/README.md has the figures). So the SQL the ORM sends is kept and sent again:

- `IdStatement`: for a query whose SQL never changes but for one parameter (the user's id). The
  queryset is built with `PLACEHOLDER` in place of the id, and the parameter that holds it is the
  one replaced. Only a statement with exactly one such parameter, and no trace of it in the SQL
  text, is accepted; anything else is a programming error, raised when it is prepared.
- `ShapedStatements`: for querysets built by the same code with other filter values. Each
  request still builds its queryset, but compiles only its WHERE clause, whose parameters are
  then those of the kept statement; a statement with parameters anywhere else is never kept.

Either way the SQL comes from the ORM itself: the queryset is run against a cursor that records
its first statement instead of sending it. Rows go through the ORM's own converters for their
columns, so values come back as the ORM gives them on every database (dates, decimals and
booleans from SQLite).
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
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
    """The statement `run(queryset)` sends, kept to be sent again with other parameters.

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
        self.compiler = None
        self.converters: dict = {}
        if columns is not None:
            self.compiler = columns.query.get_compiler(self.alias)
            self.compiler.setup_query()
            fields = [col for col, _, _ in self.compiler.select[: self.compiler.col_count]]
            self.converters = self.compiler.get_converters(fields)

    def locate_where(self, where_params: list[Any]) -> bool:
        """Find the WHERE clause's parameters among the statement's: one run of them, the rest
        constants of the statement's other parts (an aggregate's filter, a default). False when
        they are not there exactly once."""
        size = len(where_params)
        starts = [
            i
            for i in range(len(self.params) - size + 1)
            if self.params[i : i + size] == where_params
        ]
        if len(starts) != 1:
            return False
        self.where_at = starts[0]
        return True

    def execute_where(self, where_params: Sequence[Any]) -> list[Sequence[Any]]:
        """`execute` with another WHERE clause's parameters in place of the first one's."""
        at = self.where_at
        return self.execute(
            [*self.params[:at], *where_params, *self.params[at + len(where_params) :]]
        )

    def execute(self, params: Sequence[Any]) -> list[Sequence[Any]]:
        """The statement's rows for these parameters, converted as the ORM converts them."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            return list(self.compiler.apply_converters(rows, self.converters))  # type: ignore[union-attr]
        return rows


class IdStatement(Statement):
    """A statement for any id in place of `PLACEHOLDER`, the one parameter that varies."""

    def __init__(
        self,
        queryset: QuerySet,
        run: Callable[[QuerySet], Any],
        *,
        columns: QuerySet | None = None,
    ) -> None:
        super().__init__(queryset, run, columns=columns)
        slots = [i for i, p in enumerate(self.params) if type(p) is int and p == PLACEHOLDER]
        if len(slots) != 1 or str(PLACEHOLDER) in self.sql:
            raise ValueError(f"Expected one placeholder parameter in {self.sql!r}.")
        self.slot = slots[0]

    def rows(self, value: int) -> list[Sequence[Any]]:
        params = self.params.copy()
        params[self.slot] = value
        return self.execute(params)


class ModelStatement(IdStatement):
    """A statement selecting one model's rows by id, answering model instances."""

    def __init__(self, queryset: QuerySet, run: Callable[[QuerySet], Any]) -> None:
        super().__init__(queryset, run, columns=queryset)
        self.model = queryset.model
        self.names = [col.target.attname for col, _, _ in self.compiler.select]  # type: ignore[union-attr]
        if len(self.names) != len(self.model._meta.concrete_fields):
            raise ValueError(f"{self.model.__name__}: a statement must select every column.")

    def instances(self, value: int) -> list[Model]:
        return [self.model.from_db(self.alias, self.names, row) for row in self.rows(value)]


def where_clause(queryset: QuerySet) -> tuple[str, list[Any]] | None:
    """The SQL and parameters of the queryset's WHERE clause alone: far less to compile than
    the whole statement. None when the ORM would send no WHERE or no statement at all."""
    try:
        sql, params = queryset.query.get_compiler(queryset.db).compile(queryset.query.where)
    except (EmptyResultSet, FullResultSet):
        return None
    return sql, list(params)


def _shape(queryset: QuerySet, where_sql: str) -> str:
    """What a statement's SQL text depends on, for querysets built by the same code: the WHERE
    clause's SQL, and every part of the query outside it."""
    query = queryset.query
    joins = [
        (alias, join.table_name, getattr(join, "join_type", None))
        for alias, join in query.alias_map.items()
    ]
    return repr(
        (
            query.model,
            where_sql,
            joins,
            query.values_select,
            list(query.annotation_select),
            list(query.extra_select),
            query.select_related,
            query.order_by,
            query.default_ordering,
            query.standard_ordering,
            query.distinct,
            query.distinct_fields,
            query.group_by,
            query.combinator,
            query.low_mark,
            query.high_mark,
        )
    )


class ShapedStatements:
    """Statements for querysets that differ only in their WHERE clause's parameters (the same
    filters, with other values): found by the queryset's shape and the kind of statement (its
    count, a slice of rows...), made once by `make` (from the first queryset of that shape, or
    one the caller derives from it in a way the kind names), and run with the parameters of each
    queryset's own WHERE clause, compiled alone.

    A statement is kept only when its parameters hold the WHERE clause's exactly once, in one
    run (the others, such as an aggregate's filter, are constants of the shape and `kind`);
    otherwise `statement` answers None, and the caller runs its queryset itself. Run a kept one
    with `execute_where`. At most `size` statements are kept;
    beyond that the cache starts again (shapes are few: they are the filters given, not their
    values).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: dict[tuple[Any, str], Statement | None] = {}

    def statement(
        self,
        queryset: QuerySet,
        where: tuple[str, list[Any]],
        kind: Any,
        make: Callable[[], Statement],
    ) -> Statement | None:
        key = (kind, _shape(queryset, where[0]))
        try:
            return self.entries[key]
        except KeyError:
            pass
        found: Statement | None = make()
        if not found.locate_where(where[1]):  # type: ignore[union-attr]
            found = None
        if len(self.entries) >= self.size:
            self.entries.clear()
        self.entries[key] = found
        return found

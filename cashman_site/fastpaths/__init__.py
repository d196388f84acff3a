"""Cashman's fast paths: the one place where Cashman reaches into the internals of Django and the
libraries it builds on.

Each fast path gives what a plain call gives, with less of the framework's work per request. Each
is kept only because the benchmark shows it buying at least a tenth of a benchmarked scenario's
throughput (bench/README.md, "Fast paths", has the measurements); each has a test holding its
answers equal to the plain path's (`cashman_site/tests/test_fastpaths.py` and the tests it names).

Statements compiled once (this module, on `statements`):

- `get_by_pk(model, pk)`: `model.objects.get(pk=pk)`, or None. Authentication's user lookup,
  on every request.
- `list_rows(queryset)`: a `values()` queryset's count and slices, as a paginator reads them. A
  transaction list's page and its count.
- `grouped_rows(queryset, kind)` and `aggregate(queryset, kind, aggregates)`: a `values()`
  queryset's rows and a queryset's aggregate, compiling only the WHERE clause. The summaries'
  and list counts' reads of the rollups.

On django-filter's and Django's forms' internals (`filters`):

- `filters.FormCachingFilterSet` (django-filter): the transaction filters' form class built once,
  and only the filters a request gives; `filters.DateField` (Django's forms): ISO dates read
  without `strptime`.

Each rests on one library's internals, and is written for the feature release of it named in
`WRITTEN_FOR`. On any other release, `enabled(library)` is false and every caller gets the plain
path, and a test fails until someone checks them against the new release. Setting
`CASHMAN_FAST_PATHS=false` turns them all off (to measure them, or to rule them out).
"""

import functools
import importlib.metadata
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from django.db.models.query import ValuesIterable

from cashman_site import process_state
from cashman_site.fastpaths.statements import (
    PLACEHOLDER,
    ModelStatement,
    ShapedStatements,
    Statement,
    where_clause,
)

#: The feature release of each library whose internals a fast path uses, as written for and
#: checked against.
WRITTEN_FOR: dict[str, tuple[int, ...]] = {
    "django": (5, 2),
    "django-filter": (26,),
}


def _release(distribution: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", importlib.metadata.version(distribution))[:3])


#: The installed releases, read once.
INSTALLED = {name: _release(name) for name in WRITTEN_FOR}

M = TypeVar("M", bound=Model)


def written_for(library: str) -> bool:
    """Whether the installed release of `library` is the one its fast paths were written for."""
    wanted = WRITTEN_FOR[library]
    return INSTALLED[library][: len(wanted)] == wanted


def enabled(library: str = "django") -> bool:
    """Whether the fast paths on `library`'s internals run (else their callers take the plain
    path)."""
    return written_for(library) and settings.CASHMAN_FAST_PATHS


# --- One row by primary key ---------------------------------------------------------------


@functools.cache
def _by_pk(model: type[Model]) -> ModelStatement:
    return ModelStatement(model._default_manager.filter(pk=PLACEHOLDER), lambda rows: rows.get())


def get_by_pk(model: type[M], pk: int) -> M | None:
    """`model._default_manager.get(pk=pk)`, or None when no row has that key. Fast: the
    statement is compiled once per process and run with each key."""
    if enabled():
        found = _by_pk(model).instances(pk)
        return found[0] if found else None  # type: ignore[return-value]
    try:
        return model._default_manager.get(pk=pk)  # type: ignore[no-any-return]
    except model.DoesNotExist:  # type: ignore[attr-defined]
        return None


# --- A list's rows --------------------------------------------------------------------------

#: Statements of lists' values() querysets, by their shape (the filters given, not their
#: values, and the ordering) and the statement (the count, or a slice).
_LISTS = ShapedStatements(size=512)


def _names(queryset: QuerySet) -> tuple[str, ...]:
    query = queryset.query
    return (*query.extra_select, *query.values_select, *query.annotation_select)


class ListRows:
    """A `values()` queryset's rows as a paginator reads them: `count()`, and slices with a stop.
    Only the queryset's WHERE clause is compiled; the count and page statements are made from
    the first queryset of the same shape, and run with this one's parameters. A queryset whose
    statement cannot be kept is run as it is."""

    ordered = True  # for Django's paginator, which warns about unordered lists

    def __init__(self, queryset: QuerySet) -> None:
        self.queryset = queryset
        self.where = where_clause(queryset)
        self.names = _names(queryset)

    def _statement(self, kind: Any, run: Any, *, converted: bool) -> Statement | None:
        if self.where is None:
            return None

        def make() -> Statement:
            return Statement(self.queryset, run, columns=self.queryset if converted else None)

        return _LISTS.statement(self.queryset, self.where, kind, make)

    def count(self) -> int:
        statement = self._statement("count", QuerySet.count, converted=False)
        if statement is None:
            return self.queryset.count()
        return statement.execute_where(self.where[1])[0][0]  # type: ignore[index,no-any-return]

    def __getitem__(self, key: slice) -> list[dict[str, Any]]:
        if not isinstance(key, slice) or key.step is not None or key.stop is None:
            raise TypeError("A list's rows take a slice with a stop and no step.")
        low, high = key.start or 0, key.stop
        if high <= low:
            return []  # an empty page: the queryset would send nothing either
        run = lambda rows: list(rows[low:high])  # noqa: E731
        statement = self._statement(("page", low, high), run, converted=True)
        if statement is None:
            return list(self.queryset[low:high])
        names, rows = self.names, statement.execute_where(self.where[1])  # type: ignore[index]
        return [dict(zip(names, row, strict=True)) for row in rows]


def list_rows(queryset: QuerySet) -> QuerySet | ListRows:
    """What a paginator should read a list's rows from: `ListRows` for a `values()` queryset of
    columns, the queryset itself for anything else (model instances, annotations or extra
    selects, which a statement's shape does not tell apart) or when the fast paths are off."""
    query = queryset.query
    if (
        enabled()
        and queryset._iterable_class is ValuesIterable
        and not query.annotations
        and not query.extra
    ):
        return ListRows(queryset)
    return queryset


# --- Grouped rows and aggregates (the rollups) --------------------------------------------

#: Statements of rollup reads, by shape and kind (which names the aggregates).
_SUMS = ShapedStatements(size=512)


def grouped_rows(queryset: QuerySet, kind: str) -> list[dict[str, Any]]:
    """`list(queryset)` of a `values()` queryset, grouped and annotated or not. `kind` must name
    what the queryset's shape does not show: its annotations' expressions. Only the WHERE
    clause is compiled; the statement is kept per shape and kind."""
    where = where_clause(queryset) if enabled() else None
    if where is None:
        return list(queryset)
    statement = _SUMS.statement(
        queryset, where, kind, lambda: Statement(queryset, list, columns=queryset)
    )
    if statement is None:
        return list(queryset)
    names = _names(queryset)
    return [dict(zip(names, row, strict=True)) for row in statement.execute_where(where[1])]


def aggregate(queryset: QuerySet, kind: str, aggregates: dict[str, Any]) -> dict[str, Any]:
    """`queryset.aggregate(**aggregates)`, as `grouped_rows` (`kind` names the aggregates)."""
    where = where_clause(queryset) if enabled() else None
    if where is None:
        return queryset.aggregate(**aggregates)
    statement = _SUMS.statement(
        queryset,
        where,
        kind,
        lambda: Statement(queryset, lambda rows: rows.aggregate(**aggregates)),
    )
    if statement is None:
        return queryset.aggregate(**aggregates)
    return dict(zip(aggregates, statement.execute_where(where[1])[0], strict=True))


def _forget() -> None:
    _by_pk.cache_clear()
    _LISTS.entries.clear()
    _SUMS.entries.clear()


process_state.register("fast paths: compiled statements", _forget)

__all__: Sequence[str] = [
    "WRITTEN_FOR",
    "ListRows",
    "aggregate",
    "enabled",
    "get_by_pk",
    "grouped_rows",
    "list_rows",
]

"""Reading the rollups (`ledger.models.rollups`): the totals of a user's transactions from a number
of rows bounded by the calendar, whatever the number of transactions.

A date range is read from whole months in `MonthTotal` and from the days of the months it cuts in
`DayTotal`: at most two statements, over at most the range's months and 62 days of keys.
"""

import calendar
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum

from cashman_site import fastpaths
from ledger import scope
from ledger.models import DayTotal, MonthTotal

#: The list filters the rollups can answer: every other one (a search, an amount) needs the rows.
FILTERS = frozenset(
    {"ledger", "account", "type", "status", "category", "date_after", "date_before"}
)


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _next_month(day: datetime.date) -> datetime.date:
    return _month_end(day) + datetime.timedelta(days=1)


def _span(rows: QuerySet, first: datetime.date | None, last: datetime.date | None) -> QuerySet:
    if first is not None:
        rows = rows.filter(date__gte=first)
    if last is not None:
        rows = rows.filter(date__lte=last)
    return rows


@dataclass(frozen=True)
class RollupSet:
    """The rollups of the transactions `user` may see, narrowed as a list's filters narrow the
    transactions: `narrow` applies the filters other than the dates (their field names are the
    rollups' too), `date_after` and `date_before` (inclusive) the dates."""

    user: Any
    transaction_type: str | None = None
    narrow: Callable[[QuerySet], QuerySet] | None = None
    date_after: datetime.date | None = None
    date_before: datetime.date | None = None

    def _rows(self, model: Any) -> QuerySet:
        rows = scope.visible(model.objects.order_by(), self.user)
        if self.transaction_type is not None:
            rows = rows.filter(type=self.transaction_type)
        return rows if self.narrow is None else self.narrow(rows)

    def parts(self) -> list[QuerySet]:
        """The querysets whose rows add up to the set: whole months, then the days of the
        months the range cuts (none when it cuts none)."""
        first, last = self.date_after, self.date_before
        if first is not None and last is not None and first > last:
            return []
        # The whole months of the range: from the first month that starts in it to the last
        # that ends in it.
        months_from = first if first is None or first.day == 1 else _next_month(first)
        months_to = last if last is None or last == _month_end(last) else None
        if last is not None and months_to is None:
            months_to = _month_start(last) - datetime.timedelta(days=1)
        if months_from is not None and months_to is not None and months_from > months_to:
            return [_span(self._rows(DayTotal), first, last)]  # within a month or two
        parts = [_span(self._rows(MonthTotal), months_from, months_to)]
        days = Q()
        if first is not None and months_from != first:
            days |= Q(date__gte=first, date__lt=months_from)
        if last is not None and months_to != last:
            days |= Q(date__gt=months_to, date__lte=last)
        if days:
            parts.append(self._rows(DayTotal).filter(days))
        return parts

    def count(self) -> int:
        """How many transactions the set holds."""
        return sum(_sum_counts(part) for part in self.parts())


def _sum_counts(rows: QuerySet) -> int:
    return fastpaths.aggregate(rows, "rollup count", {"n": Sum("transactions")})["n"] or 0


def merge(
    rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any], summed: Iterable[str]
) -> list[dict[str, Any]]:
    """Rows of several parts added up by `key`: the `summed` columns added, the rest kept."""
    merged: dict[Any, dict[str, Any]] = {}
    for row in rows:
        found = merged.get(key(row))
        if found is None:
            merged[key(row)] = dict(row)
        else:
            for name in summed:
                found[name] += row[name]
    return list(merged.values())

"""The dates a schedule's rule gives: RFC 5545 recurrence rules through python-dateutil, with two
rules of Cashman's on top.

- A day of the month the month does not have (the 31st, the 29th of February) is the month's last
  day: a bill due on the 31st is paid on the 30th in April, not skipped as RFC 5545 would skip it.
  The same holds for a monthly or yearly rule that gives no day and starts on such a day. With
  `by_weekday` or `by_set_pos`, the days of the month are read as RFC 5545 reads them.
- `weekend` moves a date that falls on a Saturday or a Sunday to the Friday before or the Monday
  after (`moved`). The occurrence keeps its own date (`Transaction.occurrence_date`); only the
  transaction's date moves.
"""

import datetime
import re
from collections.abc import Iterator
from typing import Any

from dateutil import rrule

from ledger.choices import Frequency, WeekendRule

_FREQUENCIES = {
    Frequency.DAILY: rrule.DAILY,
    Frequency.WEEKLY: rrule.WEEKLY,
    Frequency.MONTHLY: rrule.MONTHLY,
    Frequency.YEARLY: rrule.YEARLY,
}
_WEEKDAYS = {"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH, "FR": rrule.FR,
             "SA": rrule.SA, "SU": rrule.SU}  # fmt: skip
_WEEKDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")

#: The most occurrences one request may ask for.
MAX_OCCURRENCES = 1000
#: How far after its start (or the last date dealt with) a schedule's dates are read at most.
HORIZON_YEARS = 100
#: The earliest day a schedule may start on.
EARLIEST = datetime.date(1970, 1, 1)
#: A rule's interval at most (every 999 days, weeks, months or years).
MAX_INTERVAL = 999


class RuleError(ValueError):
    """A rule that gives no dates as asked; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


_FIELDS = ("freq", "interval", "by_month", "by_weekday", "by_month_day", "by_set_pos")
#: The most days one period of each frequency holds: a position past it picks nothing.
_PERIOD_DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7, Frequency.MONTHLY: 31,
                Frequency.YEARLY: 366}  # fmt: skip


def normalise(rule: Any) -> dict[str, Any]:
    """The rule in its stored shape (`freq`, `interval`, and the `by_*` lists it gives), or
    RuleError naming each wrong field."""
    if not isinstance(rule, dict):
        raise RuleError({"rule": "Give an object with freq and interval."})
    errors: dict[str, str] = {}
    unknown = sorted(set(rule) - set(_FIELDS))
    if unknown:
        errors["rule"] = f"Unknown fields: {', '.join(unknown)}."
    freq = rule.get("freq")
    if freq not in Frequency.values:
        errors["freq"] = f"Give one of {', '.join(Frequency.values)}."
    interval = rule.get("interval", 1)
    if type(interval) is not int or not 1 <= interval <= MAX_INTERVAL:
        errors["interval"] = f"Give a whole number from 1 to {MAX_INTERVAL}."
    shaped: dict[str, Any] = {"freq": freq, "interval": interval}
    for name, check in (
        ("by_month", _month),
        ("by_weekday", _weekday),
        ("by_month_day", _month_day),
        ("by_set_pos", _set_pos),
    ):
        if rule.get(name) is not None:
            try:
                shaped[name] = _listed(rule[name], check)
            except ValueError as exc:
                errors[name] = str(exc)
    if not errors:
        errors.update(_combination_errors(shaped))
    if errors:
        raise RuleError(errors)
    return shaped


def _listed(given: Any, check: Any) -> list[Any]:
    if isinstance(given, int | str) and not isinstance(given, bool):
        given = [given]
    if not isinstance(given, list) or not given or len(given) > 31:
        raise ValueError("Give a list of 1 to 31 values.")
    return list(dict.fromkeys(check(value) for value in given))  # each once, in the order given


def _combination_errors(rule: dict[str, Any]) -> dict[str, str]:
    """What RFC 5545 refuses, and positions no period can hold: rules that give no date."""
    freq, errors = rule["freq"], {}
    if "by_month_day" in rule and freq in (Frequency.DAILY, Frequency.WEEKLY):
        errors["by_month_day"] = f"A {freq} rule takes no days of the month."
    if "by_month" in rule and freq != Frequency.YEARLY:
        errors["by_month"] = "Only a yearly rule takes months."
    numbered = [int(day[:-2]) for day in rule.get("by_weekday", []) if len(day) > 2]
    if numbered and freq not in (Frequency.MONTHLY, Frequency.YEARLY):
        errors["by_weekday"] = "Only monthly and yearly rules take numbered days (1MO, -1FR)."
    elif numbered and freq == Frequency.MONTHLY and any(abs(n) > 5 for n in numbered):
        errors["by_weekday"] = "A month has at most 5 of each day: number them 1 to 5 or -1 to -5."
    if "by_set_pos" in rule:
        most = _PERIOD_DAYS[freq]
        if freq == Frequency.WEEKLY and "by_weekday" in rule:
            most = len(rule["by_weekday"])
        if not ({"by_weekday", "by_month_day"} & set(rule)):
            errors["by_set_pos"] = (
                "by_set_pos picks among the days by_weekday or by_month_day give."
            )
        elif any(abs(p) > most for p in rule["by_set_pos"]):
            errors["by_set_pos"] = f"Give positions up to {most}: a {freq} period holds no more."
    return errors


def _month(value: Any) -> int:
    if type(value) is not int or not 1 <= value <= 12:
        raise ValueError("Give months from 1 to 12.")
    return value


def _weekday(value: Any) -> str:
    match = _WEEKDAY.match(value.strip().upper()) if isinstance(value, str) else None
    if match is None or (match.group(1) and not 1 <= abs(int(match.group(1))) <= 53):
        raise ValueError("Give days as MO, TU, WE, TH, FR, SA, SU, optionally numbered: 1MO, -1FR.")
    return match.group(0)


def _month_day(value: Any) -> int:
    if type(value) is not int or value == 0 or not -31 <= value <= 31:
        raise ValueError("Give days of the month from 1 to 31, or -1 (the last) to -31.")
    return value


def _set_pos(value: Any) -> int:
    if type(value) is not int or value == 0 or not -366 <= value <= 366:
        raise ValueError("Give positions from 1 to 366 or -1 (the last) to -366.")
    return value


def _weekdays(values: list[str]) -> list[Any]:
    days = []
    for value in values:
        match = _WEEKDAY.match(value)
        assert match is not None  # normalised
        day = _WEEKDAYS[match.group(2)]
        days.append(day(int(match.group(1))) if match.group(1) else day)
    return days


def _rules(rule: dict[str, Any], start: datetime.date, until: datetime.date) -> list[rrule.rrule]:
    """The dateutil rules whose union is the schedule's: one for the days every month has, and one
    for each later day, which falls on the month's last day when the month is shorter."""
    freq = _FREQUENCIES[rule["freq"]]
    common: dict[str, Any] = {
        "dtstart": datetime.datetime.combine(start, datetime.time()),
        "until": datetime.datetime.combine(until, datetime.time()),
        "interval": rule["interval"],
        "byweekday": _weekdays(rule["by_weekday"]) if "by_weekday" in rule else None,
    }
    months = rule.get("by_month")
    days = rule.get("by_month_day")
    if freq == rrule.YEARLY and months is None and "by_weekday" not in rule:
        months = [start.month]  # a yearly bill on the 15th is paid once a year, not every month
    if days is None and "by_weekday" not in rule and freq in (rrule.MONTHLY, rrule.YEARLY):
        days = [start.day]  # dateutil would take dtstart's day, and skip the months without it
    if days is None or "by_set_pos" in rule or "by_weekday" in rule:
        # Positions pick among all the days given, and weekdays narrow them, as RFC 5545 says.
        return [
            rrule.rrule(
                freq, bymonth=months, bymonthday=days, bysetpos=rule.get("by_set_pos"), **common
            )
        ]
    plain = [d for d in days if d <= 28]
    rules = [rrule.rrule(freq, bymonth=months, bymonthday=plain, **common)] if plain else []
    for day in sorted(d for d in days if d > 28):
        # Of the days from the 28th to this one, the last the month has: positions count per
        # period, so a yearly rule takes each of its months apart.
        span = list(range(28, day + 1))
        for month in [None] if freq == rrule.MONTHLY else months or range(1, 13):
            rules.append(rrule.rrule(freq, bymonth=month, bymonthday=span, bysetpos=-1, **common))
    return rules


def gives_dates(rule: dict[str, Any], start: datetime.date) -> bool:
    """Whether a normalised rule gives any date within `HORIZON_YEARS` of `start`.

    dateutil walks period after period until it finds a date, so a rule that never gives one
    would walk to the year 9999: the walk is made from the start's date moved on by whole
    400-year Gregorian cycles (which repeat every weekday and leap day) to within
    `HORIZON_YEARS` of the calendar's end, where it ends soon either way."""
    cycles = max(0, (9999 - HORIZON_YEARS - start.year) // 400)
    probe = start.replace(year=start.year + 400 * cycles)
    return next(dates(rule, probe), None) is not None


def dates(
    rule: dict[str, Any],
    start: datetime.date,
    *,
    end: datetime.date | None = None,
    count: int | None = None,
    after: datetime.date | None = None,
    until: datetime.date | None = None,
) -> Iterator[datetime.date]:
    """The occurrence dates of a normalised rule from `start`, in order: up to `end`, or the first
    `count` of them; only those after `after` and up to `until` are given (the count still starts
    at `start`). None goes further than `HORIZON_YEARS` after `start` (or `after`)."""
    base = after if after is not None and after > start else start
    year = base.year + HORIZON_YEARS
    last = datetime.date.max if year > datetime.MAXYEAR else base.replace(year=year, day=1)
    last = min(d for d in (last, end, until) if d is not None)
    found = rrule.rruleset()
    for part in _rules(rule, start, last):
        found.rrule(part)
    for number, moment in enumerate(found, start=1):
        day = moment.date()
        if (end is not None and day > end) or (count is not None and number > count):
            return
        if after is None or day > after:
            yield day


def day_before(day: datetime.date) -> datetime.date | None:
    """The day before `day`; None before the calendar's first day."""
    return None if day == datetime.date.min else day - datetime.timedelta(days=1)


def moved(day: datetime.date, weekend: str) -> datetime.date:
    """The day an occurrence on `day` is posted: a Saturday or Sunday moves to the Friday before
    or the Monday after as `weekend` says."""
    weekday = day.weekday()
    if weekday < 5 or weekend == WeekendRule.KEEP:
        return day
    try:
        if weekend == WeekendRule.BEFORE:
            return day - datetime.timedelta(days=weekday - 4)
        return day + datetime.timedelta(days=7 - weekday)
    except OverflowError:  # the calendar's first or last days
        return day

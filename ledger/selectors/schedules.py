"""Reads of schedules: those a user may see, and the occurrences of one with where each stands."""

import datetime
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from ledger import recurrence, scope
from ledger.models import Schedule, ScheduleSkip, Transaction

#: Where an occurrence stands.
POSTED, SKIPPED, DUE, PLANNED, NOT_POSTED = "posted", "skipped", "due", "planned", "not_posted"


class TooManyOccurrences(ValueError):
    pass


def schedules_for(*, user: User) -> QuerySet[Schedule]:
    return scope.visible(Schedule.objects.select_related("category"), user)


def schedules_of(*, user: User, ledger_ids: list[int]) -> QuerySet[Schedule]:
    """The schedules of these ledgers of the user's that will post: those of open accounts."""
    rows = scope.visible(Schedule.objects.all(), user)
    return rows.filter(ledger__in=ledger_ids, account__archived=False).order_by("pk")


def occurrence_dates(
    schedule: Schedule, since: datetime.date, until: datetime.date
) -> list[datetime.date]:
    """The schedule's occurrence dates from `since` to `until`; TooManyOccurrences past
    `recurrence.MAX_OCCURRENCES`."""
    found = []
    for day in recurrence.dates(
        schedule.rule,
        schedule.start_date,
        end=schedule.end_date,
        count=schedule.count,
        after=recurrence.day_before(since),
        until=until,
    ):
        found.append(day)
        if len(found) > recurrence.MAX_OCCURRENCES:
            raise TooManyOccurrences(
                f"More than {recurrence.MAX_OCCURRENCES} occurrences: ask for a shorter span."
            )
    return found


def occurrences(
    schedule: Schedule, *, since: datetime.date, until: datetime.date, today: datetime.date
) -> list[dict[str, Any]]:
    """Each occurrence from `since` to `until`: its `date` (the rule's), the day it is or will be
    posted on (`post_date`), its `status` and the `transaction` posted for it.

    Statuses: `posted`; `skipped`; `due` (its day has come, the next run posts it); `planned`;
    `not_posted` (past, before the schedule was made or last edited, or its transaction was
    deleted)."""
    days = occurrence_dates(schedule, since, until)
    if not days:
        return []
    posted = dict(
        Transaction.objects.filter(
            schedule=schedule, occurrence_date__gte=days[0], occurrence_date__lte=days[-1]
        ).values_list("occurrence_date", "pk")
    )
    skipped = set(
        ScheduleSkip.objects.filter(
            schedule=schedule, date__gte=days[0], date__lte=days[-1]
        ).values_list("date", flat=True)
    )
    answer = []
    for day in days:
        when = recurrence.moved(day, schedule.weekend)
        if day in posted:
            status = POSTED
        elif day in skipped:
            status = SKIPPED
        elif schedule.posted_until is not None and day <= schedule.posted_until:
            status = NOT_POSTED
        else:
            status = DUE if when <= today else PLANNED
        answer.append(
            {"date": day, "post_date": when, "status": status, "transaction": posted.get(day)}
        )
    return answer


def pending(
    schedule: Schedule, *, until: datetime.date, skipped: set[datetime.date]
) -> list[tuple[datetime.date, datetime.date]]:
    """The occurrences not dealt with yet, up to those posted by `until`: (date, post date)."""
    found = []
    for day in recurrence.dates(
        schedule.rule,
        schedule.start_date,
        end=schedule.end_date,
        count=schedule.count,
        after=schedule.posted_until,
        until=until + datetime.timedelta(days=2),  # a weekend move may bring one forward
    ):
        when = recurrence.moved(day, schedule.weekend)
        if when > until:
            continue
        if day not in skipped:
            found.append((day, when))
    return found

"""Writes of schedules, and the posting of their due occurrences as ordinary transactions.

A schedule's `posted_until` is the last occurrence date dealt with. Posting walks the rule's dates
after it, posts each one whose (weekend-moved) date has come, and moves `posted_until` on; the
unique constraint on (schedule, occurrence_date) makes a second poster, a retry or a second worker
unable to post an occurrence twice. Occurrences dated before the day a schedule is made or edited
are not posted: from that day on, its rule is the one that counts.
"""

import datetime
import logging
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from accounts.models import User
from ledger import recurrence, scope
from ledger.choices import TransactionStatus
from ledger.exceptions import Conflict
from ledger.models import Account, Category, Schedule, ScheduleSkip, Transaction
from ledger.services.transactions import conditional_update, lock_at_version
from ledger.services.unit_of_work import unit_of_work

logger = logging.getLogger("cashman.schedules")

#: The fields an edit may change.
EDITABLE = (
    "account", "category", "type", "description", "amount", "start_date", "end_date", "count",
    "rule", "weekend",
)  # fmt: skip


def _today() -> datetime.date:
    return timezone.localdate()


def _clean(schedule: Schedule) -> None:
    """Field validation and `Schedule.clean` (the sign, the ledger, the dates, the rule)."""
    schedule.full_clean(exclude=["ledger", "created_by"], validate_constraints=False)


def _skipped(schedule: Schedule) -> set[datetime.date]:
    return set(ScheduleSkip.objects.filter(schedule=schedule).values_list("date", flat=True))


def dates_after(schedule: Schedule, after: datetime.date | None, **bounds: Any) -> Any:
    """The schedule's occurrence dates after `after`."""
    return recurrence.dates(
        schedule.rule,
        schedule.start_date,
        end=schedule.end_date,
        count=schedule.count,
        after=after,
        **bounds,
    )


def _plan_next(schedule: Schedule, skipped: set[datetime.date] | None = None) -> None:
    """Set `next_date`: the day the first occurrence not yet dealt with is due to be posted."""
    skipped = _skipped(schedule) if skipped is None else skipped
    schedule.next_date = None
    for day in dates_after(schedule, schedule.posted_until):
        if day not in skipped:
            schedule.next_date = recurrence.moved(day, schedule.weekend)
            return


def _writable_account(actor: User, account: Account) -> Account:
    scope.require_write(actor, account.ledger_id)
    if account.archived:
        raise ValidationError(
            {"account": "This account is archived: it takes no new transactions."}
        )
    return account


def schedule_create(
    *,
    actor: User,
    account: Account,
    type: str,
    description: str,
    amount: Decimal,
    start_date: datetime.date,
    rule: dict[str, Any],
    category: Category | None = None,
    end_date: datetime.date | None = None,
    count: int | None = None,
    weekend: str = "keep",
) -> Schedule:
    _writable_account(actor, account)
    schedule = Schedule(
        account=account,
        created_by=actor,
        type=type,
        description=description,
        amount=amount,
        start_date=start_date,
        rule=rule,
        category=category,
        end_date=end_date,
        count=count,
        weekend=weekend,
    )
    _clean(schedule)
    schedule.posted_until = recurrence.day_before(max(start_date, _today()))
    _plan_next(schedule, skipped=set())
    with unit_of_work(account.ledger_id):
        schedule.save()
    return schedule


def schedule_update(
    *,
    schedule: Schedule,
    actor: User | None,
    data: dict[str, Any],
    if_version: int | None = None,
) -> Schedule:
    """Change a schedule from today on: the occurrences before today are first posted under its
    old rule (those already due), and those not posted by then never will be. `actor` None is
    staff in the admin."""
    if actor is not None:
        scope.require_write(actor, schedule.ledger_id)
        if "account" in data and data["account"].pk != schedule.account_id:
            _writable_account(actor, data["account"])
    if "type" in data and "amount" not in data:
        data = {**data, "amount": abs(schedule.amount)}  # the sign follows the new type
    yesterday = _today() - datetime.timedelta(days=1)
    with unit_of_work(schedule.ledger_id) as unit:
        locked = lock_at_version(schedule, if_version)
        # An archived account's schedule posts nothing until the account is open again, and
        # then catches up: its missed occurrences stay planned through an edit.
        settle = not locked.account.archived
        if settle:
            _post(locked, yesterday, settle=True)
        for name, value in data.items():
            setattr(locked, name, value)
        _clean(locked)
        unit.changed(locked.ledger_id)
        if settle:
            locked.posted_until = _dealt_with(locked, yesterday)
        _plan_next(locked)
        values = {name: getattr(locked, name) for name in (*EDITABLE, "posted_until", "next_date")}
        values["ledger"] = locked.ledger_id
        conditional_update(locked, values, None)
    return locked


def _dealt_with(schedule: Schedule, yesterday: datetime.date) -> datetime.date:
    """After an edit: the day before today, or before the (new) start, or the last occurrence
    posted (a weekend move may post one dated after today), whichever is latest."""
    posted = Transaction.objects.filter(schedule=schedule).aggregate(last=Max("occurrence_date"))
    found = [yesterday, recurrence.day_before(schedule.start_date), posted["last"]]
    return max(d for d in found if d is not None)


def schedule_delete(*, schedule: Schedule, actor: User, if_version: int | None = None) -> None:
    """Its posted transactions stay, naming no schedule."""
    scope.require_write(actor, schedule.ledger_id)
    with unit_of_work(schedule.ledger_id):
        locked = lock_at_version(schedule, if_version)
        _forget_schedule(Schedule.objects.filter(pk=locked.pk))
        locked.delete()


def _forget_schedule(schedules: Any) -> None:
    """Its transactions stay, naming no schedule: a change of theirs, so their versions (ETags)
    move on. (They would lose it anyway by SET_NULL, unversioned.)"""
    Transaction.objects.filter(schedule__in=schedules).update(
        schedule=None, version=F("version") + 1
    )


def schedule_skip(*, schedule: Schedule, actor: User, date: datetime.date) -> Schedule:
    """Leave out the occurrence of `date` (the rule's date, before a weekend move)."""
    scope.require_write(actor, schedule.ledger_id)
    if date not in set(dates_after(schedule, recurrence.day_before(date), until=date)):
        raise ValidationError({"date": f"The schedule has no occurrence on {date}."})
    with unit_of_work(schedule.ledger_id):
        locked = lock_at_version(schedule, None)
        if Transaction.objects.filter(schedule=locked, occurrence_date=date).exists():
            raise Conflict(f"The occurrence of {date} is already posted.")
        if locked.posted_until is not None and date <= locked.posted_until:
            raise Conflict(f"The occurrence of {date} is past: it is no longer planned.")
        ScheduleSkip.objects.get_or_create(schedule=locked, date=date)
        _replan(locked)
    return locked


def schedule_unskip(*, schedule: Schedule, actor: User, date: datetime.date) -> Schedule:
    """Plan again an occurrence that was skipped, if it is not past."""
    scope.require_write(actor, schedule.ledger_id)
    with unit_of_work(schedule.ledger_id):
        locked = lock_at_version(schedule, None)
        if locked.posted_until is not None and date <= locked.posted_until:
            raise Conflict(f"The occurrence of {date} is past: it is no longer planned.")
        if not ScheduleSkip.objects.filter(schedule=locked, date=date).delete()[0]:
            raise ValidationError({"date": f"The occurrence of {date} is not skipped."})
        _replan(locked)
    return locked


def _replan(locked: Schedule) -> None:
    _plan_next(locked)
    conditional_update(locked, {"next_date": locked.next_date}, None)


def schedule_add(*, schedule: Schedule) -> None:
    """Save a schedule the admin's form made (an edit goes through `schedule_update`)."""
    _clean(schedule)
    schedule.posted_until = recurrence.day_before(max(schedule.start_date, _today()))
    _plan_next(schedule, skipped=set())
    with unit_of_work(schedule.ledger_id):
        schedule.save()


def schedule_delete_many(*, schedules: Any) -> None:
    """Delete these schedules (the admin's bulk delete); their transactions stay."""
    with unit_of_work(*set(schedules.values_list("ledger_id", flat=True))):
        _forget_schedule(schedules)
        schedules.delete()


def schedules_post_due(*, today: datetime.date | None = None) -> int:
    """Post every occurrence due by `today` (the local date: `DJANGO_TIME_ZONE`'s) of every
    schedule whose account is open. Returns how many transactions were posted."""
    today = _today() if today is None else today
    due = Schedule.objects.filter(next_date__lte=today, account__archived=False).order_by("pk")
    posted = 0
    for pk in due.values_list("pk", flat=True):
        try:
            posted += schedule_post_due(schedule_id=pk, today=today)
        except Exception:  # one schedule that cannot post holds up no other
            logger.exception("schedule %s could not post its due occurrences", pk)
    return posted


def schedule_post_due(*, schedule_id: int, today: datetime.date) -> int:
    """Post the due occurrences of one schedule, under a lock of its row: another poster at the
    same moment skips it (PostgreSQL), and the unique constraint stops any second post."""
    ledger_id = Schedule.objects.filter(pk=schedule_id).values_list("ledger_id", flat=True).first()
    if ledger_id is None:
        return 0
    with unit_of_work(ledger_id) as unit:
        rows = Schedule.objects.select_related("account")
        rows = rows.select_for_update(skip_locked=True, of=("self",))  # not the account's row
        schedule = rows.filter(pk=schedule_id, next_date__lte=today).first()
        if schedule is None or schedule.account.archived:
            return 0
        unit.changed(schedule.ledger_id)  # an edit may have moved it since it was read
        posted = _post(schedule, today)
        _plan_next(schedule)
        conditional_update(
            schedule, {"posted_until": schedule.posted_until, "next_date": schedule.next_date}, None
        )
    if posted:
        logger.info("schedule %s posted %s occurrences", schedule_id, posted)
    return posted


def _post(schedule: Schedule, through: datetime.date, *, settle: bool = False) -> int:
    """Post the occurrences after `posted_until` that are due by `through`; with `settle`, those
    dated up to `through` even when a weekend move dates them later. Moves `posted_until` on."""
    skipped = _skipped(schedule)
    posted = 0
    for day in dates_after(schedule, schedule.posted_until):
        when = recurrence.moved(day, schedule.weekend)
        if (day if settle else when) > through:
            break
        if day not in skipped:
            posted += _post_one(schedule, day, when)
        schedule.posted_until = day
    return posted


def _post_one(schedule: Schedule, day: datetime.date, when: datetime.date) -> int:
    tx = Transaction(
        ledger_id=schedule.ledger_id,
        account_id=schedule.account_id,
        created_by_id=schedule.created_by_id,
        type=schedule.type,
        description=schedule.description,
        amount=schedule.amount,
        date=when,
        category_id=schedule.category_id,
        status=TransactionStatus.PENDING,
        schedule=schedule,
        occurrence_date=day,
    )
    tx._history_user = schedule.created_by  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            tx.save()
    except IntegrityError:
        if Transaction.objects.filter(schedule=schedule, occurrence_date=day).exists():
            return 0  # posted already: by another poster, or before a retry
        raise
    return 1

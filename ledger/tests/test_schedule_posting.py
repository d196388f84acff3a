"""The posting of schedules' occurrences: month ends, leap days, weekends, time zones, gaps,
archived accounts and concurrent runs."""

import datetime
import os
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.choices import TransactionType
from ledger.models import Schedule, Transaction
from ledger.services import schedules
from ledger.services.unit_of_work import unit_of_work
from ledger.tests.factories import (
    CategoryFactory,
    main_account,
)
from ledger.tests.schedules_support import (
    SCHEDULES,
    TRANSACTIONS,
    UTC,
    D,
    api,
    body,
    detail,
    make,
    monthly,
    occurrence_days,
    occurrences_url,
    post_due,
    posted,
    statuses,
)

pytestmark = pytest.mark.django_db


class TestPosting:
    def test_a_monthly_rule_on_the_31st_posts_on_each_months_last_day(self, clock, user):
        clock(D(2027, 1, 10))
        category = CategoryFactory(owner=user, name="Housing")
        response = api(user).post(
            SCHEDULES, body(main_account(user), category=category.pk, description="Rent")
        )
        assert response.status_code == 201, response.content
        schedule = Schedule.objects.get(pk=response.json()["id"])

        clock(D(2027, 7, 15))
        assert post_due() == 6
        month_ends = [D(2027, 1, 31), D(2027, 2, 28), D(2027, 3, 31), D(2027, 4, 30),
                      D(2027, 5, 31), D(2027, 6, 30)]  # fmt: skip
        rows = Transaction.objects.filter(schedule=schedule).order_by("date")
        assert [tx.date for tx in rows] == month_ends
        assert [tx.occurrence_date for tx in rows] == month_ends
        for tx in rows:
            assert tx.amount == Decimal("-1200.00")
            assert tx.type == TransactionType.EXPENSE
            assert tx.description == "Rent"
            assert tx.category == category
            assert tx.account == main_account(user)
            assert tx.ledger_id == main_account(user).ledger_id
            assert tx.created_by == user

        # Idempotent: a second run, the same day or later that month, posts nothing.
        assert post_due() == 0
        clock(D(2027, 7, 30))
        assert post_due() == 0
        assert Transaction.objects.filter(schedule=schedule).count() == 6

        listed = api(user).get(TRANSACTIONS).json()["results"]
        assert [(r["date"], r["schedule"], r["occurrence_date"]) for r in listed] == [
            (day.isoformat(), schedule.pk, day.isoformat()) for day in reversed(month_ends)
        ]
        schedule.refresh_from_db()
        assert schedule.posted_until == D(2027, 6, 30)
        assert schedule.next_date == D(2027, 7, 31)

    def test_the_task_posts_as_the_command_does(self, clock, user):
        from ledger import tasks

        clock(D(2027, 1, 10))
        schedule = make(user)
        clock(D(2027, 2, 28))
        assert tasks.post_schedules.delay().get() == 2
        assert occurrence_days(schedule) == [D(2027, 1, 31), D(2027, 2, 28)]

    def test_the_beat_entry(self, settings):
        entry = settings.CELERY_BEAT_SCHEDULE["post-schedules"]
        assert entry["task"] == "ledger.tasks.post_schedules"
        # CASHMAN_SCHEDULES_SECONDS, 300 by default.
        assert entry["schedule"] == float(os.environ.get("CASHMAN_SCHEDULES_SECONDS", "300"))

    def test_occurrences_before_the_creation_day_are_never_posted(self, clock, user):
        clock(D(2027, 3, 10))
        schedule = make(user, start_date=D(2027, 1, 1))
        clock(D(2027, 4, 30))
        assert post_due() == 2
        assert occurrence_days(schedule) == [D(2027, 3, 31), D(2027, 4, 30)]
        shown = statuses(user, schedule.pk, "2027-01-01", "2027-05-31")
        assert shown == {
            "2027-01-31": "not_posted",
            "2027-02-28": "not_posted",
            "2027-03-31": "posted",
            "2027-04-30": "posted",
            "2027-05-31": "planned",
        }

    def test_an_occurrence_on_the_creation_day_is_posted(self, clock, user):
        clock(D(2027, 1, 31))
        schedule = make(user)
        assert post_due() == 1
        assert occurrence_days(schedule) == [D(2027, 1, 31)]

    def test_catch_up_after_a_gap_posts_every_missed_occurrence_on_its_own_date(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15), amount=Decimal("80"), description="Phone")
        clock(D(2027, 1, 20))
        assert post_due() == 1
        # Nothing runs for three months.
        clock(D(2027, 4, 20))
        assert post_due() == 3
        assert posted(schedule) == [
            (D(2027, m, 15), D(2027, m, 15), Decimal("-80.00")) for m in (1, 2, 3, 4)
        ]
        assert post_due() == 0

    def test_count_and_end_date_end_the_schedule(self, clock, user):
        clock(D(2027, 1, 1))
        counted = make(user, rule=monthly(1), count=3, description="Three")
        ended = make(user, rule=monthly(1), end_date=D(2027, 2, 1), description="Two")
        clock(D(2027, 12, 1))
        assert post_due() == 5
        assert occurrence_days(counted) == [D(2027, 1, 1), D(2027, 2, 1), D(2027, 3, 1)]
        assert occurrence_days(ended) == [D(2027, 1, 1), D(2027, 2, 1)]
        for schedule in (counted, ended):
            schedule.refresh_from_db()
            assert schedule.next_date is None
        assert api(user).get(detail(counted.pk)).json()["next_date"] is None

    def test_leap_day_yearly(self, clock, user):
        clock(D(2028, 2, 1))
        schedule = make(user, rule={"freq": "yearly"}, start_date=D(2028, 2, 29))
        clock(D(2028, 2, 29))
        assert post_due() == 1
        clock(D(2029, 2, 27))
        assert post_due() == 0
        clock(D(2029, 2, 28))
        assert post_due() == 1
        clock(D(2032, 3, 1))
        assert post_due() == 3
        assert occurrence_days(schedule) == [
            D(2028, 2, 29), D(2029, 2, 28), D(2030, 2, 28), D(2031, 2, 28), D(2032, 2, 29),
        ]  # fmt: skip


class TestWeekends:
    SATURDAYS = {"freq": "weekly", "by_weekday": ["SA"]}

    def test_before_posts_on_the_friday(self, clock, user):
        clock(D(2027, 1, 4))  # a Monday
        schedule = make(user, rule=self.SATURDAYS, weekend="before")
        clock(D(2027, 1, 7))  # Thursday
        assert post_due() == 0
        clock(D(2027, 1, 8))  # Friday
        assert post_due() == 1
        assert posted(schedule) == [(D(2027, 1, 9), D(2027, 1, 8), Decimal("-1200.00"))]
        clock(D(2027, 1, 9))
        assert post_due() == 0

    def test_after_posts_on_the_monday_not_on_the_saturday(self, clock, user):
        clock(D(2027, 1, 4))
        schedule = make(user, rule=self.SATURDAYS, weekend="after")
        clock(D(2027, 1, 9))  # the Saturday itself
        assert post_due() == 0
        assert statuses(user, schedule.pk, "2027-01-09", "2027-01-09") == {"2027-01-09": "planned"}
        clock(D(2027, 1, 10))  # Sunday
        assert post_due() == 0
        clock(D(2027, 1, 11))  # Monday
        assert post_due() == 1
        assert posted(schedule) == [(D(2027, 1, 9), D(2027, 1, 11), Decimal("-1200.00"))]
        row = api(user).get(TRANSACTIONS).json()["results"][0]
        assert (row["date"], row["occurrence_date"]) == ("2027-01-11", "2027-01-09")
        occurrence = api(user).get(
            occurrences_url(schedule.pk), {"since": "2027-01-09", "until": "2027-01-09"}
        )
        assert occurrence.json() == [
            {
                "date": "2027-01-09",
                "post_date": "2027-01-11",
                "status": "posted",
                "transaction": row["id"],
            }
        ]

    def test_keep_posts_on_the_weekend_day(self, clock, user):
        clock(D(2027, 1, 4))
        schedule = make(user, rule=self.SATURDAYS)
        clock(D(2027, 1, 9))
        assert post_due() == 1
        assert posted(schedule) == [(D(2027, 1, 9), D(2027, 1, 9), Decimal("-1200.00"))]

    def test_a_month_end_on_a_sunday_moves_into_the_next_month_after(self, clock, user):
        clock(D(2027, 1, 10))
        schedule = make(user, weekend="after")  # 2027-01-31 is a Sunday
        clock(D(2027, 1, 31))
        assert post_due() == 0
        clock(D(2027, 2, 1))
        assert post_due() == 1
        assert posted(schedule) == [(D(2027, 1, 31), D(2027, 2, 1), Decimal("-1200.00"))]

    def test_a_saturday_january_2nd_before_posts_on_new_years_day(self, clock, user):
        clock(D(2026, 12, 20))
        schedule = make(user, rule=monthly(2), weekend="before")
        clock(D(2027, 1, 1))
        assert post_due() == 1
        assert posted(schedule) == [(D(2027, 1, 2), D(2027, 1, 1), Decimal("-1200.00"))]


class TestTimeZones:
    def test_april_first_in_auckland_while_utc_is_still_in_march(self, clock, user):
        clock(D(2027, 3, 20), "Pacific/Auckland")
        schedule = make(user, rule=monthly(1))
        # 10:30 UTC on 31 March is 23:30 in Auckland: not yet.
        clock(datetime.datetime(2027, 3, 31, 10, 30, tzinfo=UTC))
        assert post_due() == 0
        # 12:30 UTC on 31 March is 01:30 on 1 April in Auckland (UTC+13).
        clock(datetime.datetime(2027, 3, 31, 12, 30, tzinfo=UTC))
        assert post_due() == 1
        assert posted(schedule) == [(D(2027, 4, 1), D(2027, 4, 1), Decimal("-1200.00"))]

    def test_still_march_31st_in_los_angeles_while_utc_is_in_april(self, clock, user):
        clock(D(2027, 3, 20), "America/Los_Angeles")
        schedule = make(user, rule=monthly(1))
        # 03:00 UTC on 1 April is 20:00 on 31 March in Los Angeles (UTC-7).
        clock(datetime.datetime(2027, 4, 1, 3, 0, tzinfo=UTC))
        assert post_due() == 0
        assert statuses(user, schedule.pk, "2027-04-01", "2027-04-01") == {"2027-04-01": "planned"}
        clock(datetime.datetime(2027, 4, 1, 7, 30, tzinfo=UTC))  # 00:30 there
        assert post_due() == 1
        assert posted(schedule) == [(D(2027, 4, 1), D(2027, 4, 1), Decimal("-1200.00"))]

    def test_creation_day_is_the_local_day(self, clock, user):
        """Created at 12:30 UTC on 31 March, already 1 April in Auckland: a schedule starting
        on 31 March never posts the 31st (the day before its creation day there)."""
        clock(datetime.datetime(2027, 3, 31, 12, 30, tzinfo=UTC), "Pacific/Auckland")
        schedule = make(user, rule={"freq": "daily"}, start_date=D(2027, 3, 31))
        assert schedule.posted_until == D(2027, 3, 31)
        assert post_due() == 1
        assert occurrence_days(schedule) == [D(2027, 4, 1)]


class TestGuards:
    def test_a_second_transaction_for_one_occurrence_is_refused_by_the_database(self, clock, user):
        clock(D(2027, 1, 31))
        schedule = make(user)
        assert post_due() == 1
        first = Transaction.objects.get(schedule=schedule)
        with pytest.raises(IntegrityError), unit_of_work(schedule.ledger_id):
            Transaction.objects.create(
                ledger_id=schedule.ledger_id,
                account_id=schedule.account_id,
                type=TransactionType.EXPENSE,
                description="Rent again",
                amount=Decimal("-1200.00"),
                date=D(2027, 1, 31),
                schedule=schedule,
                occurrence_date=first.occurrence_date,
            )
        assert Transaction.objects.filter(schedule=schedule).count() == 1

    def test_a_deleted_posted_transaction_is_not_posted_again(self, clock, user):
        clock(D(2027, 1, 31))
        schedule = make(user)
        assert post_due() == 1
        tx = Transaction.objects.get(schedule=schedule)
        assert api(user).delete(reverse("api:transaction-detail", args=[tx.pk])).status_code == 204
        assert post_due() == 0
        clock(D(2027, 2, 28))
        assert post_due() == 1
        assert occurrence_days(schedule) == [D(2027, 2, 28)]
        assert statuses(user, schedule.pk, "2027-01-31", "2027-02-28") == {
            "2027-01-31": "not_posted",
            "2027-02-28": "posted",
        }

    def test_an_archived_accounts_schedules_wait_and_catch_up(self, clock, user):
        clock(D(2027, 1, 5))
        savings = services.account_create(actor=user, name="Savings")
        schedule = make(user, savings, rule=monthly(15))
        services.account_update(account=savings, actor=user, data={"archived": True})
        clock(D(2027, 3, 20))
        assert post_due() == 0
        assert not Transaction.objects.filter(schedule=schedule).exists()
        savings.refresh_from_db()
        services.account_update(account=savings, actor=user, data={"archived": False})
        assert post_due() == 3
        assert occurrence_days(schedule) == [D(2027, m, 15) for m in (1, 2, 3)]

    def test_an_edit_while_archived_keeps_the_missed_occurrences_for_the_catch_up(
        self, clock, user
    ):
        """Archived, a schedule posts nothing and catches up once unarchived; renaming it
        meanwhile must not throw the missed occurrences away."""
        clock(D(2027, 1, 5))
        savings = services.account_create(actor=user, name="Savings")
        schedule = make(user, savings, rule=monthly(15))
        services.account_update(account=savings, actor=user, data={"archived": True})
        clock(D(2027, 3, 20))
        response = api(user).patch(detail(schedule.pk), {"description": "Rent (flat 2)"})
        assert response.status_code == 200, response.content
        assert not Transaction.objects.filter(schedule=schedule).exists()
        savings.refresh_from_db()
        services.account_update(account=savings, actor=user, data={"archived": False})
        assert post_due() == 3
        assert occurrence_days(schedule) == [D(2027, m, 15) for m in (1, 2, 3)]

    def test_a_schedule_that_cannot_post_holds_up_no_other(self, clock, user):
        """A schedule left pointing at another ledger's category (written around the services,
        as a bad restore could) makes the database refuse its transaction: the run logs it and
        posts the other schedules."""
        clock(D(2027, 1, 5))
        broken = make(user, rule=monthly(10), description="Broken")
        fine = make(user, rule=monthly(10), description="Fine")
        elsewhere = CategoryFactory(owner=UserFactory())
        with unit_of_work(broken.ledger_id):
            Schedule.objects.filter(pk=broken.pk).update(category=elsewhere)
        clock(D(2027, 1, 12))
        assert post_due() == 1
        assert [day for day, _, _ in posted(fine)] == [D(2027, 1, 10)]
        assert posted(broken) == []
        assert Schedule.objects.get(pk=broken.pk).next_date == D(2027, 1, 10)  # tried again

    def test_no_schedule_on_an_archived_account(self, clock, user):
        clock(D(2027, 1, 5))
        savings = services.account_create(actor=user, name="Savings", archived=True)
        response = api(user).post(SCHEDULES, body(savings))
        assert response.status_code == 400, response.content
        assert set(response.json()) == {"account"}


# --- Many at once ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_post_each_occurrence_once(time_machine):
    """Four posters start together over the same schedules, each with its own connection:
    every occurrence is posted exactly once, and the counts they report add up."""
    time_machine.move_to(datetime.datetime(2027, 1, 1, 12, tzinfo=UTC), tick=False)
    owners = [UserFactory() for _ in range(3)]
    made = []
    for i in range(6):
        owner = owners[i % 3]
        made.append(
            make(owner, rule={"freq": "daily"}, description=f"Daily {i}", amount=Decimal("1"))
        )
    today = D(2027, 3, 1)  # 59 days after 1 January: 60 occurrences each
    barrier = threading.Barrier(4)
    counts: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            counts.append(schedules.schedules_post_due(today=today))
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert sum(counts) == 6 * 60
    assert Transaction.objects.filter(schedule__in=made).count() == 6 * 60
    for schedule in made:
        days = occurrence_days(schedule)
        assert len(days) == len(set(days)) == 60
        assert days[0] == D(2027, 1, 1) and days[-1] == today
        schedule.refresh_from_db()
        assert schedule.posted_until == today
        assert schedule.next_date == D(2027, 3, 2)
    assert schedules.schedules_post_due(today=today) == 0


# --- Query counts ------------------------------------------------------------------------------

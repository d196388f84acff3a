"""A schedule's occurrences: skipping one, planning it again, and edits that change only the
future."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ledger import services
from ledger.models import ScheduleSkip, Transaction
from ledger.tests.factories import (
    main_account,
)
from ledger.tests.schedules_support import (
    D,
    api,
    detail,
    make,
    monthly,
    occurrence_days,
    post_due,
    posted,
    skip_url,
    statuses,
    unskip_url,
)

pytestmark = pytest.mark.django_db


class TestSkips:
    def test_a_skipped_occurrence_is_not_posted(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15))
        client = api(user)
        response = client.post(skip_url(schedule.pk), {"date": "2027-02-15"})
        assert response.status_code == 200, response.content
        assert response.json()["next_date"] == "2027-01-15"
        clock(D(2027, 3, 20))
        assert post_due() == 2
        assert occurrence_days(schedule) == [D(2027, 1, 15), D(2027, 3, 15)]
        assert statuses(user, schedule.pk, "2027-01-01", "2027-04-30") == {
            "2027-01-15": "posted",
            "2027-02-15": "skipped",
            "2027-03-15": "posted",
            "2027-04-15": "planned",
        }

    def test_skipping_the_next_one_moves_next_date(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15))
        response = api(user).post(skip_url(schedule.pk), {"date": "2027-01-15"})
        assert response.json()["next_date"] == "2027-02-15"
        clock(D(2027, 1, 20))
        assert post_due() == 0

    def test_skipping_a_posted_occurrence_is_a_conflict(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15))
        clock(D(2027, 1, 20))
        assert post_due() == 1
        response = api(user).post(skip_url(schedule.pk), {"date": "2027-01-15"})
        assert response.status_code == 409, response.content
        assert not ScheduleSkip.objects.exists()
        assert occurrence_days(schedule) == [D(2027, 1, 15)]

    def test_skipping_a_past_occurrence_never_posted_is_a_conflict(self, clock, user):
        clock(D(2027, 3, 5))
        schedule = make(user, rule=monthly(15), start_date=D(2027, 1, 1))
        response = api(user).post(skip_url(schedule.pk), {"date": "2027-02-15"})
        assert response.status_code == 409, response.content

    def test_a_due_occurrence_not_yet_posted_may_be_skipped(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15))
        clock(D(2027, 1, 16))
        assert statuses(user, schedule.pk, "2027-01-15", "2027-01-15") == {"2027-01-15": "due"}
        response = api(user).post(skip_url(schedule.pk), {"date": "2027-01-15"})
        assert response.status_code == 200, response.content
        assert post_due() == 0

    def test_unskip_brings_a_future_occurrence_back(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15))
        client = api(user)
        assert client.post(skip_url(schedule.pk), {"date": "2027-01-15"}).status_code == 200
        response = client.post(unskip_url(schedule.pk), {"date": "2027-01-15"})
        assert response.status_code == 200, response.content
        assert response.json()["next_date"] == "2027-01-15"
        assert not ScheduleSkip.objects.exists()
        clock(D(2027, 1, 15))
        assert post_due() == 1
        assert occurrence_days(schedule) == [D(2027, 1, 15)]

    def test_unskip_of_a_past_occurrence_not_dealt_with_posts_it_on_its_own_date(self, clock, user):
        """Skip and unskip read "past" alike: an occurrence the runs have not dealt with yet can
        be skipped, and unskipped; the next run then posts it, dated as it would have been."""
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15))
        assert api(user).post(skip_url(schedule.pk), {"date": "2027-01-15"}).status_code == 200
        clock(D(2027, 1, 20))
        assert post_due() == 0
        response = api(user).post(unskip_url(schedule.pk), {"date": "2027-01-15"})
        assert response.status_code == 200, response.content
        assert response.json()["next_date"] == "2027-01-15"
        assert post_due() == 1
        assert [day for day, _, _ in posted(schedule)] == [D(2027, 1, 15)]

    def test_unskip_of_an_occurrence_dealt_with_is_a_conflict(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15))
        assert api(user).post(skip_url(schedule.pk), {"date": "2027-02-15"}).status_code == 200
        clock(D(2027, 3, 20))
        assert post_due() == 2  # January and March; February's skip is dealt with
        response = api(user).post(unskip_url(schedule.pk), {"date": "2027-02-15"})
        assert response.status_code == 409, response.content
        assert ScheduleSkip.objects.filter(schedule=schedule).count() == 1


class TestEdits:
    def test_an_edit_changes_only_the_occurrences_from_today_on(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15), amount=Decimal("100"))
        clock(D(2027, 3, 20))
        assert post_due() == 3
        response = api(user).patch(detail(schedule.pk), {"amount": "150"})
        assert response.status_code == 200, response.content
        clock(D(2027, 5, 20))
        assert post_due() == 2
        assert [(day, amount) for day, _, amount in posted(schedule)] == [
            (D(2027, 1, 15), Decimal("-100.00")),
            (D(2027, 2, 15), Decimal("-100.00")),
            (D(2027, 3, 15), Decimal("-100.00")),
            (D(2027, 4, 15), Decimal("-150.00")),
            (D(2027, 5, 15), Decimal("-150.00")),
        ]

    def test_an_edit_first_posts_what_the_old_rule_left_due(self, clock, user):
        """Nothing ran since January: the edit posts February and March at the old amount, on
        the old rule's days, and the new rule counts from the day of the edit."""
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15), amount=Decimal("100"))
        clock(D(2027, 1, 20))
        assert post_due() == 1
        clock(D(2027, 3, 20))
        response = api(user).patch(detail(schedule.pk), {"amount": "150", "rule": monthly(1)})
        assert response.status_code == 200, response.content
        assert response.json()["next_date"] == "2027-04-01"
        assert response.json()["posted_until"] == "2027-03-19"
        assert posted(schedule) == [
            (D(2027, m, 15), D(2027, m, 15), Decimal("-100.00")) for m in (1, 2, 3)
        ]
        clock(D(2027, 4, 2))
        assert post_due() == 1
        assert posted(schedule)[-1] == (D(2027, 4, 1), D(2027, 4, 1), Decimal("-150.00"))
        shown = statuses(user, schedule.pk, "2027-03-01", "2027-05-01")
        # Under the new rule, 1 March is before the edit: never posted.
        assert shown == {
            "2027-03-01": "not_posted",
            "2027-04-01": "posted",
            "2027-05-01": "planned",
        }

    def test_an_occurrence_due_today_follows_the_edit(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15), amount=Decimal("100"))
        clock(D(2027, 1, 15))
        response = api(user).patch(detail(schedule.pk), {"amount": "150"})
        assert response.status_code == 200, response.content
        assert post_due() == 1
        assert posted(schedule) == [(D(2027, 1, 15), D(2027, 1, 15), Decimal("-150.00"))]

    def test_moving_a_schedule_to_another_account(self, clock, user):
        clock(D(2027, 1, 5))
        savings = services.account_create(actor=user, name="Savings")
        schedule = make(user, rule=monthly(15))
        clock(D(2027, 2, 1))
        response = api(user).patch(detail(schedule.pk), {"account": savings.pk})
        assert response.status_code == 200, response.content
        clock(D(2027, 2, 15))
        assert post_due() == 1
        rows = Transaction.objects.filter(schedule=schedule).order_by("date")
        assert [(tx.date, tx.account_id) for tx in rows] == [
            (D(2027, 1, 15), main_account(user).pk),
            (D(2027, 2, 15), savings.pk),
        ]

    def test_moving_a_future_start_earlier_keeps_the_months_in_between(self, clock, user):
        clock(D(2027, 3, 1))
        schedule = make(user, rule=monthly(15), start_date=D(2027, 6, 15))
        response = api(user).patch(detail(schedule.pk), {"start_date": "2027-04-15"})
        assert response.status_code == 200, response.content
        assert response.json()["next_date"] == "2027-04-15"
        clock(D(2027, 6, 20))
        assert post_due() == 3
        assert occurrence_days(schedule) == [D(2027, 4, 15), D(2027, 5, 15), D(2027, 6, 15)]

    def test_changing_the_type_keeps_the_amount_and_flips_its_sign(self, clock, user):
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15), amount=Decimal("40"))
        response = api(user).patch(detail(schedule.pk), {"type": "INCOME"})
        assert response.status_code == 200, response.content
        assert (response.json()["type"], response.json()["amount"]) == ("INCOME", "40.00")

    def test_an_edit_in_the_admin_is_an_edit_through_the_service(
        self, clock, user, client, admin_user
    ):
        """The admin's change form settles what the old rule left due, then counts from today,
        as an API edit does."""
        clock(D(2027, 1, 5))
        schedule = make(user, rule=monthly(15), amount=Decimal("100"))
        clock(D(2027, 2, 20))  # January's and February's are due, not posted
        client.force_login(admin_user)  # a session of the frozen day
        page = reverse("admin:ledger_schedule_change", args=[schedule.pk])
        form = {
            "account": schedule.account_id,
            "category": "",
            "type": "EXPENSE",
            "description": "Rent",
            "amount": "-150.00",
            "start_date": "2027-01-05",
            "end_date": "",
            "count": "",
            "rule": '{"freq": "monthly", "by_month_day": [15]}',
            "weekend": "keep",
            "skips-TOTAL_FORMS": "0",
            "skips-INITIAL_FORMS": "0",
        }
        response = client.post(page, form)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert [(day, amount) for day, _, amount in posted(schedule)] == [
            (D(2027, 1, 15), Decimal("-100.00")),
            (D(2027, 2, 15), Decimal("-100.00")),
        ]
        clock(D(2027, 3, 20))
        assert post_due() == 1
        assert posted(schedule)[-1] == (D(2027, 3, 15), D(2027, 3, 15), Decimal("-150.00"))

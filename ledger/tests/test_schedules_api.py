"""Schedules through the API: their shape and validation, who may see and change them, and
the queries their reads make, SQLite and PostgreSQL alike."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.choices import Role
from ledger.models import Account, Schedule, ScheduleSkip, Transaction
from ledger.services import schedules
from ledger.tests.factories import (
    CategoryFactory,
    SharedLedgerFactory,
    add_member,
    main_account,
)
from ledger.tests.schedules_support import (
    FORECAST,
    SCHEDULES,
    D,
    api,
    body,
    detail,
    make,
    monthly,
    occurrences_url,
    post_due,
    skip_url,
    unskip_url,
)

pytestmark = pytest.mark.django_db


class TestCrud:
    def test_create_stores_an_expense_negative_and_answers_its_plan(self, clock, user):
        clock(D(2027, 1, 10))
        category = CategoryFactory(owner=user, name="Housing")
        response = api(user).post(
            SCHEDULES,
            body(main_account(user), category=category.pk, weekend="before"),
        )
        assert response.status_code == 201, response.content
        row = response.json()
        assert row["amount"] == "-1200.00"
        assert row["type"] == "EXPENSE"
        assert row["ledger"] == main_account(user).ledger_id
        assert row["rule"] == {"freq": "monthly", "interval": 1, "by_month_day": [31]}
        assert row["weekend"] == "before"
        assert row["posted_until"] == "2027-01-09"
        # 2027-01-31 is a Sunday: posted on Friday the 29th.
        assert row["next_date"] == "2027-01-29"
        assert response["ETag"]
        stored = Schedule.objects.get(pk=row["id"])
        assert stored.amount == Decimal("-1200.00")
        assert stored.category == category
        assert stored.created_by == user

    @pytest.mark.parametrize("amount", ["1200.00", "-1200.00"])
    def test_an_expense_is_negative_whatever_sign_is_sent(self, clock, user, amount):
        clock(D(2027, 1, 10))
        response = api(user).post(SCHEDULES, body(main_account(user), amount=amount))
        assert response.status_code == 201, response.content
        assert response.json()["amount"] == "-1200.00"

    def test_an_income_is_positive(self, clock, user):
        clock(D(2027, 1, 10))
        response = api(user).post(
            SCHEDULES, body(main_account(user), type="INCOME", amount="3000", description="Pay")
        )
        assert response.status_code == 201, response.content
        assert response.json()["amount"] == "3000.00"

    def test_list_retrieve_and_filters(self, clock, user):
        clock(D(2027, 1, 10))
        main = main_account(user)
        savings = services.account_create(actor=user, name="Savings")
        household = SharedLedgerFactory(owner=user)
        shared = Account.objects.get(ledger=household, name="Main")
        rent = make(user, main, description="Rent")
        saving = make(user, savings, description="Saving", type="INCOME", amount=Decimal("50"))
        bills = make(user, shared, description="Bills")
        make(UserFactory(), description="Someone else's")
        client = api(user)

        def found(**params) -> list[str]:
            response = client.get(SCHEDULES, params)
            assert response.status_code == 200, response.content
            return [row["description"] for row in response.json()["results"]]

        assert found() == ["Bills", "Rent", "Saving"]
        assert found(account=savings.pk) == ["Saving"]
        assert found(account=main.pk) == ["Rent"]
        assert found(ledger=household.pk) == ["Bills"]
        assert found(ledger=main.ledger_id) == ["Rent", "Saving"]
        response = client.get(detail(rent.pk))
        assert response.status_code == 200
        assert response.json()["id"] == rent.pk
        assert response["ETag"] == f'"{rent.pk}-1"'
        assert {saving.pk, bills.pk} == {
            row["id"] for row in client.get(SCHEDULES).json()["results"]
        } - {rent.pk}
        # An account or a ledger the user is not in is a 400, as if it did not exist.
        stranger = main_account(UserFactory())
        assert client.get(SCHEDULES, {"account": stranger.pk}).status_code == 400
        assert client.get(SCHEDULES, {"ledger": stranger.ledger_id}).status_code == 400

    def test_update_with_if_match_and_a_stale_etag(self, clock, user):
        clock(D(2027, 1, 10))
        schedule = make(user)
        client = api(user)
        etag = client.get(detail(schedule.pk))["ETag"]

        response = client.patch(detail(schedule.pk), {"amount": "1300"}, HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.content
        assert response.json()["amount"] == "-1300.00"
        assert response["ETag"] != etag

        stale = client.patch(detail(schedule.pk), {"amount": "1400"}, HTTP_IF_MATCH=etag)
        assert stale.status_code == 412, stale.content
        assert Schedule.objects.get(pk=schedule.pk).amount == Decimal("-1300.00")
        gone = client.delete(detail(schedule.pk), HTTP_IF_MATCH=etag)
        assert gone.status_code == 412
        assert Schedule.objects.filter(pk=schedule.pk).exists()

    def test_put_replaces_the_schedule(self, clock, user):
        clock(D(2027, 1, 10))
        schedule = make(user)
        response = api(user).put(
            detail(schedule.pk),
            body(
                main_account(user),
                description="Rent, new flat",
                amount="1500",
                rule={"freq": "monthly", "by_month_day": [1]},
            ),
        )
        assert response.status_code == 200, response.content
        row = response.json()
        assert (row["description"], row["amount"]) == ("Rent, new flat", "-1500.00")
        assert row["next_date"] == "2027-02-01"

    def test_delete_keeps_the_posted_transactions(self, clock, user):
        clock(D(2027, 1, 10))
        schedule = make(user)
        clock(D(2027, 3, 10))
        assert post_due() == 2
        response = api(user).delete(detail(schedule.pk))
        assert response.status_code == 204, response.content
        assert not Schedule.objects.filter(pk=schedule.pk).exists()
        kept = Transaction.objects.filter(description="Rent").order_by("date")
        assert list(kept.values_list("schedule", "occurrence_date", "amount")) == [
            (None, D(2027, 1, 31), Decimal("-1200.00")),
            (None, D(2027, 2, 28), Decimal("-1200.00")),
        ]

    def test_a_posted_transactions_etag_changes_when_its_schedule_goes(self, clock, user):
        """Deleting the schedule changes the transaction's representation (`schedule` becomes
        null): a client revalidating with the old ETag must get the new body, not a 304."""
        clock(D(2027, 1, 31))
        schedule = make(user)
        assert post_due() == 1
        url = reverse("api:transaction-detail", args=[Transaction.objects.get().pk])
        client = api(user)
        before = client.get(url)
        assert before.json()["schedule"] == schedule.pk
        assert client.delete(detail(schedule.pk)).status_code == 204
        again = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
        assert again.status_code == 200, (again.status_code, before["ETag"])
        assert again.json()["schedule"] is None
        assert again["ETag"] != before["ETag"]

    def test_the_browsable_api_renders_the_list(self, clock, user):
        clock(D(2027, 1, 10))
        make(user)
        response = api(user).get(SCHEDULES, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert b"Rent" in response.content


class TestValidation:
    @pytest.fixture
    def client(self, clock, user):
        clock(D(2027, 1, 10))
        return api(user)

    def errors(self, client, user, **fields) -> dict:
        response = client.post(SCHEDULES, body(main_account(user), **fields))
        assert response.status_code == 400, response.content
        assert not Schedule.objects.exists()
        return response.json()

    def test_interval_zero(self, client, user):
        errors = self.errors(client, user, rule={"freq": "monthly", "interval": 0})
        assert "interval" in errors["rule"]

    def test_unknown_freq(self, client, user):
        errors = self.errors(client, user, rule={"freq": "hourly"})
        assert "freq" in errors["rule"]

    def test_end_date_before_start_date(self, client, user):
        errors = self.errors(client, user, start_date="2027-02-01", end_date="2027-01-31")
        assert set(errors) == {"end_date"}

    def test_both_end_date_and_count(self, client, user):
        errors = self.errors(client, user, end_date="2027-12-31", count=3)
        assert set(errors) == {"count"}

    def test_a_category_of_another_users_ledger(self, client, user):
        errors = self.errors(client, user, category=CategoryFactory().pk)
        assert set(errors) == {"category"}

    def test_a_category_of_another_ledger_of_the_user(self, client, user):
        household = SharedLedgerFactory(owner=user)
        elsewhere = CategoryFactory(ledger=household)
        errors = self.errors(client, user, category=elsewhere.pk)
        assert set(errors) == {"category"}

    def test_a_blank_description(self, client, user):
        errors = self.errors(client, user, description="   ")
        assert set(errors) == {"description"}

    def test_an_unknown_rule_field_is_refused_not_ignored(self, client, user):
        """A typo ("by_monthday") must not silently give a schedule on another day: the rule's
        own check (recurrence.normalise) refuses unknown fields, and so must the API."""
        errors = self.errors(client, user, rule={"freq": "monthly", "by_monthday": [1]})
        assert "rule" in errors

    def test_a_rule_error_found_by_the_rule_check_names_the_field_as_drf_would(self, client, user):
        """by_set_pos without by_weekday/by_month_day is caught by recurrence.normalise, interval
        0 by the serializer's field: both should name the field inside `rule` the same way."""
        errors = self.errors(client, user, rule={"freq": "monthly", "by_set_pos": [-1]})
        assert "by_set_pos" in errors["rule"], errors

    def test_a_bad_weekday(self, client, user):
        errors = self.errors(client, user, rule={"freq": "weekly", "by_weekday": ["XX"]})
        assert "by_weekday" in str(errors["rule"])

    def test_occurrences_past_a_thousand(self, client, user):
        schedule = make(user, rule={"freq": "daily"})
        response = client.get(
            occurrences_url(schedule.pk), {"since": "2027-01-10", "until": "2030-01-10"}
        )
        assert response.status_code == 400, response.content
        assert set(response.json()) == {"until"}
        # 1,000 exactly is fine.
        response = client.get(
            occurrences_url(schedule.pk), {"since": "2027-01-10", "until": "2029-10-05"}
        )
        assert response.status_code == 200, response.content
        assert len(response.json()) == 1000

    def test_occurrences_until_before_since(self, client, user):
        schedule = make(user)
        response = client.get(
            occurrences_url(schedule.pk), {"since": "2027-03-01", "until": "2027-02-01"}
        )
        assert response.status_code == 400
        assert set(response.json()) == {"until"}

    def test_skip_of_a_date_that_is_no_occurrence(self, client, user):
        schedule = make(user)
        response = client.post(skip_url(schedule.pk), {"date": "2027-02-27"})
        assert response.status_code == 400, response.content
        assert set(response.json()) == {"date"}
        assert not ScheduleSkip.objects.exists()

    def test_unskip_of_a_date_not_skipped(self, client, user):
        schedule = make(user)
        response = client.post(unskip_url(schedule.pk), {"date": "2027-02-28"})
        assert response.status_code == 400, response.content
        assert set(response.json()) == {"date"}


# --- Households --------------------------------------------------------------------------------


class TestHouseholds:
    def test_an_account_of_a_ledger_the_user_is_not_in(self, clock, user):
        clock(D(2027, 1, 10))
        theirs = main_account(UserFactory())
        response = api(user).post(SCHEDULES, body(theirs))
        assert response.status_code == 400
        assert set(response.json()) == {"account"}
        assert not Schedule.objects.exists()

    def test_another_users_schedule_is_not_found(self, clock, user):
        clock(D(2027, 1, 10))
        theirs = make(UserFactory())
        client = api(user)
        assert client.get(detail(theirs.pk)).status_code == 404
        assert client.patch(detail(theirs.pk), {"amount": "1"}).status_code == 404
        assert client.put(detail(theirs.pk), body(main_account(user))).status_code == 404
        assert client.delete(detail(theirs.pk)).status_code == 404
        assert client.post(skip_url(theirs.pk), {"date": "2027-01-31"}).status_code == 404
        assert client.post(unskip_url(theirs.pk), {"date": "2027-01-31"}).status_code == 404
        assert client.get(occurrences_url(theirs.pk)).status_code == 404
        assert client.get(SCHEDULES).json()["results"] == []
        stored = Schedule.objects.get(pk=theirs.pk)
        assert (stored.amount, stored.version) == (Decimal("-1200.00"), 1)
        assert not ScheduleSkip.objects.exists()

    def test_a_viewer_reads_and_writes_nothing(self, clock, user):
        clock(D(2027, 1, 10))
        founder = UserFactory()
        household = SharedLedgerFactory(owner=founder)
        shared = Account.objects.get(ledger=household, name="Main")
        schedule = make(founder, shared)
        add_member(household, user, Role.VIEWER)
        client = api(user)

        assert [r["id"] for r in client.get(SCHEDULES).json()["results"]] == [schedule.pk]
        assert client.get(detail(schedule.pk)).status_code == 200
        assert client.get(occurrences_url(schedule.pk)).status_code == 200
        assert client.get(FORECAST, {"account": shared.pk}).status_code == 200
        assert client.get(FORECAST, {"ledger": household.pk}).status_code == 200

        before = Schedule.objects.values().get(pk=schedule.pk)
        refused = [
            client.post(SCHEDULES, body(shared)),
            client.put(detail(schedule.pk), body(shared, amount="1")),
            client.patch(detail(schedule.pk), {"amount": "1"}),
            client.delete(detail(schedule.pk)),
            client.post(skip_url(schedule.pk), {"date": "2027-01-31"}),
            client.post(unskip_url(schedule.pk), {"date": "2027-01-31"}),
        ]
        assert [r.status_code for r in refused] == [403] * 6, [r.content for r in refused]
        assert Schedule.objects.count() == 1
        assert Schedule.objects.values().get(pk=schedule.pk) == before
        assert not ScheduleSkip.objects.exists()

    def test_an_editor_writes(self, clock, user):
        clock(D(2027, 1, 10))
        founder = UserFactory()
        household = SharedLedgerFactory(owner=founder)
        shared = Account.objects.get(ledger=household, name="Main")
        schedule = make(founder, shared)
        add_member(household, user, Role.EDITOR)
        client = api(user)

        created = client.post(SCHEDULES, body(shared, description="Water"))
        assert created.status_code == 201, created.content
        assert created.json()["ledger"] == household.pk
        patched = client.patch(detail(schedule.pk), {"amount": "1250"})
        assert patched.status_code == 200, patched.content
        assert patched.json()["amount"] == "-1250.00"
        skipped = client.post(skip_url(schedule.pk), {"date": "2027-02-28"})
        assert skipped.status_code == 200, skipped.content
        assert ScheduleSkip.objects.filter(schedule=schedule, date=D(2027, 2, 28)).exists()
        assert client.delete(detail(created.json()["id"])).status_code == 204
        assert list(Schedule.objects.values_list("pk", flat=True)) == [schedule.pk]


# --- Posting -----------------------------------------------------------------------------------


class TestQueryCounts:
    def queries(self, client, url, params=None) -> int:
        """The statements of a request once warm: with the ledger cache on (Redis), the first
        request after a write reads the user's memberships, and later ones do not."""
        assert client.get(url, params or {}).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params or {})
            assert response.status_code == 200, response.content
        return len(captured)

    def test_the_list_whatever_the_number_of_schedules(self, clock, user):
        clock(D(2027, 1, 10))
        category = CategoryFactory(owner=user)
        make(user, category=category)
        one = self.queries(api(user), SCHEDULES)
        for i in range(9):
            make(user, category=CategoryFactory(owner=user), description=f"Bill {i}")
        assert len(api(user).get(SCHEDULES).json()["results"]) == 10
        assert self.queries(api(user), SCHEDULES) == one

    def test_the_occurrences_whatever_their_number(self, clock, user):
        clock(D(2027, 1, 1))
        schedule = make(user, rule={"freq": "daily"})
        clock(D(2027, 1, 1))
        post_due()
        few = self.queries(
            api(user), occurrences_url(schedule.pk), {"since": "2027-01-01", "until": "2027-01-01"}
        )
        clock(D(2027, 3, 1))
        post_due()
        client = api(user)
        params = {"since": "2027-01-01", "until": "2027-12-31"}
        assert len(client.get(occurrences_url(schedule.pk), params).json()) == 365
        assert self.queries(client, occurrences_url(schedule.pk), params) == few

    def test_posting_needs_no_query_per_schedule_beyond_its_own(
        self, clock, user, django_assert_max_num_queries
    ):
        """Bounded per occurrence: a run over 10 schedules due once each."""
        clock(D(2027, 1, 10))
        for i in range(10):
            make(user, rule=monthly(20), description=f"Bill {i}")
        clock(D(2027, 1, 20))
        with django_assert_max_num_queries(10 * 15):
            assert schedules.schedules_post_due() == 10


class TestRulesThatGiveNoDate:
    def test_a_rule_no_period_can_match_is_a_400_on_rule(self, clock, user):
        clock(D(2027, 1, 5))
        rule = {"freq": "monthly", "by_month_day": [1], "by_weekday": ["5FR"]}
        response = api(user).post(SCHEDULES, body(main_account(user), rule=rule), format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["rule"]
        assert not Schedule.objects.exists()

    def test_an_end_before_the_first_occurrence_is_a_400_on_end_date(self, clock, user):
        clock(D(2027, 1, 5))
        given = body(main_account(user), rule=monthly(20), end_date="2027-01-10")
        response = api(user).post(SCHEDULES, given, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["end_date"]

    def test_a_start_before_1970_is_a_400_on_start_date(self, clock, user):
        clock(D(2027, 1, 5))
        given = body(main_account(user), start_date="1900-01-01")
        response = api(user).post(SCHEDULES, given, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["start_date"]

    def test_a_yearly_bill_with_its_months(self, clock, user):
        clock(D(2027, 1, 5))
        rule = {"freq": "yearly", "by_month": [6, 12], "by_month_day": [31]}
        response = api(user).post(SCHEDULES, body(main_account(user), rule=rule), format="json")
        assert response.status_code == 201, response.content
        assert response.json()["rule"] == {"freq": "yearly", "interval": 1, **rule}
        assert response.json()["next_date"] == "2027-06-30"

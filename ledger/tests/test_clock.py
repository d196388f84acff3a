"""Days and months follow DJANGO_TIME_ZONE, whatever the day the suite runs on.

"Today" (a transaction's default date, the export's file name, the demo data) is today where the
ledger's users are (`DJANGO_TIME_ZONE`), not where the server's clock is: a server in UTC serving
Auckland must date a 01:00 purchase on Auckland's day. Every instant here is frozen with
time-machine, and every client's token is minted at that instant.
"""

import datetime
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from conftest import bearer
from ledger.demo import DEMO_EMAIL, month_start, seed_demo
from ledger.models import Transaction
from ledger.tests.factories import AccountFactory, main_account

pytestmark = pytest.mark.django_db

EXPENSES = reverse("api:expense-list")
TRANSACTIONS = reverse("api:transaction-list")
MONTHLY = reverse("api:summary-monthly")
EXPORT = reverse("api:export-list")

UTC = datetime.UTC


def local(zone: str, *args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone))


@pytest.fixture
def at(time_machine, settings, user):
    """Move the clock to an instant (tick=False: it stays there) in DJANGO_TIME_ZONE `zone`, and
    answer a client whose token is minted at that instant."""

    def travel(instant: datetime.datetime, zone: str = "UTC") -> APIClient:
        settings.TIME_ZONE = zone
        time_machine.move_to(instant, tick=False)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer(user))
        return client

    return travel


def create_undated(client: APIClient, description: str) -> dict:
    response = client.post(EXPENSES, {"description": description, "amount": "1"})
    assert response.status_code == 201, response.content
    return response.json()


def months(client: APIClient) -> dict[str, int]:
    return {row["month"]: row["count"] for row in client.get(MONTHLY).json()}


ZONES = ["UTC", "Europe/Paris", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("last_second", "month", "next_day", "next_month"),
    [
        ((2027, 1, 31, 23, 59, 59), "2027-01", "2027-02-01", "2027-02"),
        ((2026, 12, 31, 23, 59, 59), "2026-12", "2027-01-01", "2027-01"),
        ((2028, 2, 29, 23, 59, 59), "2028-02", "2028-03-01", "2028-03"),  # a leap day
        ((2027, 2, 28, 23, 59, 59), "2027-02", "2027-03-01", "2027-03"),
        ((2027, 4, 30, 23, 59, 59), "2027-04", "2027-05-01", "2027-05"),
    ],
    ids=["january", "year-end", "leap-february", "february", "april"],
)
def test_the_last_second_of_a_month_belongs_to_that_month(
    at, zone, last_second, month, next_day, next_month
):
    client = at(local(zone, *last_second), zone)
    row = create_undated(client, "last second")
    assert row["date"] == datetime.date(*last_second[:3]).isoformat()
    assert months(client) == {month: 1}

    client = at(local(zone, *last_second) + datetime.timedelta(seconds=1), zone)
    assert create_undated(client, "first second")["date"] == next_day
    assert months(client) == {next_month: 1, month: 1}


def test_a_server_in_utc_dates_a_purchase_on_its_users_day(at):
    """12:00 UTC on 31 January is 01:00 on 1 February in Auckland (UTC+13 in summer)."""
    client = at(datetime.datetime(2027, 1, 31, 12, 0, tzinfo=UTC), "Pacific/Auckland")
    row = create_undated(client, "flat white")
    assert row["date"] == "2027-02-01"
    assert months(client) == {"2027-02": 1}

    def found(**params) -> list[str]:
        return [r["description"] for r in client.get(TRANSACTIONS, params).json()["results"]]

    assert found(date_after="2027-02-01") == ["flat white"]
    assert found(date_before="2027-02-01", date_after="2027-02-01") == ["flat white"]
    assert found(date_before="2027-01-31") == []
    disposition = client.get(EXPORT, {"format": "csv"})["Content-Disposition"]
    assert disposition == 'attachment; filename="cashman-2027-02-01.csv"'


def test_a_server_in_utc_dates_a_purchase_on_its_users_day_behind_it_too(at):
    """03:00 UTC on 1 March 2028 is still 29 February (a leap day) in Los Angeles."""
    client = at(datetime.datetime(2028, 3, 1, 3, 0, tzinfo=UTC), "America/Los_Angeles")
    assert create_undated(client, "late taxi")["date"] == "2028-02-29"
    assert months(client) == {"2028-02": 1}


def test_an_undated_transfer_is_dated_on_its_users_day(at, user):
    """Both legs of a transfer sent without a date: Auckland's 1 February, not UTC's 31 January."""
    client = at(datetime.datetime(2027, 1, 31, 12, 0, tzinfo=UTC), "Pacific/Auckland")
    body = {
        "from_account": main_account(user).pk,
        "to_account": AccountFactory(owner=user).pk,
        "amount": "5.00",
    }
    response = client.post(reverse("api:transfer-list"), body)
    assert response.status_code == 201, response.content
    assert response.json()["date"] == "2027-02-01"
    legs = Transaction.objects.filter(transfer=response.json()["id"])
    assert sorted(legs.values_list("date", flat=True)) == [datetime.date(2027, 2, 1)] * 2
    assert months(client) == {"2027-02": 2}


def test_a_date_sent_by_the_client_is_kept_whatever_the_zone(at):
    client = at(datetime.datetime(2027, 1, 31, 12, 0, tzinfo=UTC), "Pacific/Auckland")
    response = client.post(EXPENSES, {"description": "x", "amount": "1", "date": "2027-01-31"})
    assert response.json()["date"] == "2027-01-31"
    assert months(client) == {"2027-01": 1}


class TestDemoData:
    @pytest.mark.parametrize(
        ("today", "expected"),
        [
            # The first of a month after a 30-day one: November must not be skipped.
            (datetime.date(2026, 12, 1), ["2026-12", "2026-11", "2026-10", "2026-09"]),
            (datetime.date(2027, 3, 31), ["2027-03", "2027-02", "2027-01", "2026-12"]),
            (datetime.date(2028, 2, 29), ["2028-02", "2028-01", "2027-12", "2027-11"]),
            (datetime.date(2027, 1, 15), ["2027-01", "2026-12", "2026-11", "2026-10"]),
        ],
    )
    def test_it_fills_each_of_the_months_before_today(self, time_machine, today, expected):
        time_machine.move_to(datetime.datetime.combine(today, datetime.time(12), UTC), tick=False)
        call_command("seed_demo", months=3, stdout=StringIO())
        rows = Transaction.objects.filter(ledger__personal_for__email=DEMO_EMAIL)
        by_month: dict[str, int] = {}
        for day in rows.values_list("date", flat=True):
            by_month[day.isoformat()[:7]] = by_month.get(day.isoformat()[:7], 0) + 1
        assert sorted(by_month, reverse=True) == expected
        assert by_month[expected[0]] == 4  # the tutorial's rows, dated today
        assert all(by_month[month] == 13 for month in expected[1:])
        assert max(rows.values_list("date", flat=True)) == today

    def test_its_today_is_today_in_django_time_zone(self, time_machine, settings):
        settings.TIME_ZONE = "Pacific/Auckland"
        time_machine.move_to(datetime.datetime(2027, 1, 31, 12, 0, tzinfo=UTC), tick=False)
        call_command("seed_demo", months=1, stdout=StringIO())
        pizza = Transaction.objects.get(ledger__personal_for__email=DEMO_EMAIL, description="pizza")
        assert pizza.date == datetime.date(2027, 2, 1)

    def test_the_same_day_gives_the_same_rows(self, db):
        def rows() -> list[tuple]:
            return list(
                Transaction.objects.filter(ledger__personal_for__email=DEMO_EMAIL)
                .order_by("id")
                .values_list("description", "amount", "date", "category__name")
            )

        day = datetime.date(2027, 5, 17)
        seed_demo(months=2, today=day)
        first = rows()
        seed_demo(months=2, today=day, reset=True)
        assert rows() == first


@pytest.mark.parametrize(
    ("day", "back", "expected"),
    [
        (datetime.date(2026, 12, 1), 1, datetime.date(2026, 11, 1)),
        (datetime.date(2026, 3, 31), 1, datetime.date(2026, 2, 1)),
        (datetime.date(2026, 1, 31), 1, datetime.date(2025, 12, 1)),
        (datetime.date(2026, 1, 1), 13, datetime.date(2024, 12, 1)),
        (datetime.date(2028, 2, 29), 12, datetime.date(2027, 2, 1)),
        (datetime.date(2026, 7, 9), 0, datetime.date(2026, 7, 1)),
    ],
)
def test_month_start_counts_calendar_months(day, back, expected):
    assert month_start(day, back=back) == expected

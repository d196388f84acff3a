"""What the schedule tests share: the routes, a frozen clock, and ways to make and read
schedules. The clock is frozen everywhere (time-machine, tick=False) and every client's token is
minted at the frozen instant."""

import datetime
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import bearer
from ledger.choices import TransactionType
from ledger.models import Account, Schedule, Transaction
from ledger.services import schedules
from ledger.tests.factories import (
    main_account,
)

SCHEDULES = reverse("api:schedule-list")
TRANSACTIONS = reverse("api:transaction-list")
FORECAST = reverse("api:forecast-list")
D = datetime.date
UTC = datetime.UTC


def detail(pk: int) -> str:
    return reverse("api:schedule-detail", args=[pk])


def occurrences_url(pk: int) -> str:
    return reverse("api:schedule-occurrences", args=[pk])


def skip_url(pk: int) -> str:
    return reverse("api:schedule-skip", args=[pk])


def unskip_url(pk: int) -> str:
    return reverse("api:schedule-unskip", args=[pk])


def api(user) -> APIClient:
    """A client whose token is minted now (at the frozen instant)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def monthly(*days: int) -> dict:
    return {"freq": "monthly", "by_month_day": list(days)}


def body(account: Account, **fields) -> dict:
    values = {
        "account": account.pk,
        "type": "EXPENSE",
        "description": "Rent",
        "amount": "1200.00",
        "start_date": timezone.localdate().isoformat(),
        "rule": monthly(31),
    }
    values.update(fields)
    return values


def make(user, account: Account | None = None, **fields) -> Schedule:
    """A schedule made through the service, starting today (the frozen clock's) by default."""
    values = {
        "account": account or main_account(user),
        "type": TransactionType.EXPENSE,
        "description": "Rent",
        "amount": Decimal("1200.00"),
        "start_date": timezone.localdate(),
        "rule": monthly(31),
    }
    values.update(fields)
    return schedules.schedule_create(actor=user, **values)


def post_due() -> int:
    """What beat runs, through the management command; the number it reports."""
    out = StringIO()
    call_command("post_schedules", stdout=out)
    return int(out.getvalue().split()[0])


def posted(schedule: Schedule) -> list[tuple]:
    rows = Transaction.objects.filter(schedule=schedule).order_by("occurrence_date")
    return list(rows.values_list("occurrence_date", "date", "amount"))


def occurrence_days(schedule: Schedule) -> list[datetime.date]:
    rows = Transaction.objects.filter(schedule=schedule).order_by("occurrence_date")
    return list(rows.values_list("occurrence_date", flat=True))


def statuses(user, schedule_id: int, since: str, until: str) -> dict[str, str]:
    response = api(user).get(occurrences_url(schedule_id), {"since": since, "until": until})
    assert response.status_code == 200, response.content
    return {row["date"]: row["status"] for row in response.json()}


# --- Shape, listing, editing -------------------------------------------------------------------

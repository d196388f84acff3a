"""The fast representation: a transaction serialised from plain values (the list and detail
rows, timestamps in any zone) and the summaries serialised from the selectors' rows must equal
what DRF's own serializers give, field for field and key order included."""

import datetime
import json
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from cashman_site.serializers import row_representation, value_columns
from ledger import selectors, services
from ledger.choices import TransactionStatus, TransactionType
from ledger.models import Membership, Transaction
from ledger.serializers import (
    CategorySummarySerializer,
    MonthlySummarySerializer,
    SummarySerializer,
    TransactionSerializer,
)
from ledger.tests.factories import (
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    main_account,
)

pytestmark = pytest.mark.django_db

TRANSACTIONS = reverse("api:transaction-list")
EXPENSES = reverse("api:expense-list")
SUMMARY = reverse("api:summary-list")
MONTHLY = reverse("api:summary-monthly")
BY_CATEGORY = reverse("api:summary-by-category")


def fields_representation(tx: Transaction) -> dict:
    """What DRF's own field-by-field serialisation gives (the fast path must equal it)."""
    return dict(serializers.ModelSerializer.to_representation(TransactionSerializer(), tx))


@pytest.fixture
def varied(user, make_tx):
    """Rows of every shape: with and without a category, cleared, in a shared ledger, and a
    transfer's two legs."""
    food = CategoryFactory(owner=user, name="Food")
    household = SharedLedgerFactory(owner=user)
    transfer = services.transfer_create(
        actor=user,
        from_account=main_account(user),
        to_account=household.accounts.get(),
        amount=Decimal("3.30"),
        date=datetime.date(2026, 6, 30),
    )
    return [
        make_tx(amount=Decimal("0.01"), category=food),
        make_tx(type=TransactionType.INCOME, amount=Decimal("9999999999.99")),
        make_tx(amount=Decimal("20"), description="Café ünïcode", date=datetime.date(1999, 12, 31)),
        make_tx(amount=Decimal("7"), status=TransactionStatus.CLEARED),
        TransactionFactory(account=household.accounts.get(), amount=Decimal("5")),
        *transfer.legs.all(),
    ]


class TestRepresentation:
    @pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
    def test_rows_give_what_the_serializer_fields_give(self, varied, zone):
        columns = value_columns(TransactionSerializer)
        assert columns == (
            "id", "type", "description", "amount", "date", "category", "category__name",
            "account", "ledger", "status", "transfer", "schedule", "occurrence_date", "created_at",
            "updated_at",
        )  # fmt: skip
        rows = list(Transaction.objects.order_by("id").values(*columns))
        instances = list(Transaction.objects.select_related("category").order_by("id"))
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            expected = [fields_representation(tx) for tx in instances]
            for row, want in zip(rows, expected, strict=True):
                got = row_representation(TransactionSerializer, row)
                assert got == want and list(got) == list(want)
            # The list's serializer, given rows or instances.
            assert TransactionSerializer(rows, many=True).data == expected
            assert TransactionSerializer(instances, many=True).data == expected

    @pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
    @pytest.mark.parametrize(
        "instant",
        [
            datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
            datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),  # no microseconds
            datetime.datetime(2026, 7, 1, 0, 0, 0, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")),
            # Paris then kept local mean time, 9 min 21 s ahead: an offset with seconds.
            datetime.datetime(1850, 1, 1, 12, 0, tzinfo=datetime.UTC),
        ],
        ids=["micro", "whole-second", "from-tokyo", "offset-with-seconds"],
    )
    def test_timestamps_are_written_as_drfs_datetime_field_writes_them(self, zone, instant):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            expected = serializers.DateTimeField().to_representation(instant)
            row = {
                "id": 1,
                "type": TransactionType.EXPENSE,
                "description": "d",
                "amount": Decimal("-1.00"),
                "date": datetime.date(2026, 1, 2),
                "category": None,
                "category__name": None,
                "account": 1,
                "ledger": 1,
                "status": TransactionStatus.PENDING,
                "transfer": None,
                "schedule": None,
                "occurrence_date": None,
                "created_at": instant,
                "updated_at": None,
            }
            answer = row_representation(TransactionSerializer, row)
            assert answer["created_at"] == expected
            assert answer["updated_at"] is None

    def test_list_rows_equal_the_detail_answers(self, auth_client, varied):
        rows = auth_client.get(TRANSACTIONS).json()["results"]
        assert len(rows) == 7
        assert {row["status"] for row in rows} == {"pending", "cleared"}
        assert len({row["ledger"] for row in rows}) == 2
        assert len({row["transfer"] for row in rows}) == 2  # None and the transfer's id
        for row in rows:
            assert (
                auth_client.get(reverse("api:transaction-detail", args=[row["id"]])).json() == row
            )

    def test_a_create_answers_the_stored_row(self, auth_client):
        body = {"description": "Lunch", "amount": 12.5, "date": "2026-11-02"}
        created = auth_client.post(EXPENSES, body).json()
        assert created["amount"] == "-12.50"
        assert auth_client.get(reverse("api:transaction-detail", args=[created["id"]])).json() == (
            created
        )


class TestSummaryRepresentation:
    """Summaries are serialised from the selectors' rows directly; the answer must be what the
    summary serializers would give, key order included."""

    @pytest.mark.parametrize(
        ("url", "selector", "serializer"),
        [
            (SUMMARY, selectors.summary_total, SummarySerializer),
            (MONTHLY, selectors.summary_monthly, MonthlySummarySerializer),
            (BY_CATEGORY, selectors.summary_by_category, CategorySummarySerializer),
        ],
    )
    def test_it_equals_the_serializers_output(
        self, auth_client, user, varied, make_tx, url, selector, serializer
    ):
        make_tx(amount=Decimal("0.10"), date=datetime.date(1999, 12, 1))  # two rows in one month
        ledgers = Membership.objects.filter(user=user).values("ledger_id")
        rows = selector(transactions=Transaction.objects.filter(ledger__in=ledgers))
        many = isinstance(rows, list)
        expected = json.loads(JSONRenderer().render(serializer(rows, many=many).data))
        response = auth_client.get(url)
        assert response.status_code == 200
        answer = response.json()
        assert answer == expected
        got_rows, want_rows = (answer, expected) if many else ([answer], [expected])
        assert [list(row) for row in got_rows] == [list(row) for row in want_rows]

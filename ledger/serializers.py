import datetime
import functools
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import orjson
from django.utils import timezone
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from cashman_site import process_state
from cashman_site.serializers import ModelSerializer
from ledger import selectors
from ledger.choices import TransactionType
from ledger.models import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    Category,
    ImportJob,
    Transaction,
)
from ledger.selectors import TRANSACTION_VALUES

SUMMARY_DIGITS = 20


class OwnCategoryField(serializers.PrimaryKeyRelatedField):
    """A category id that must be one of the requesting user's (anyone else's -> 400)."""

    default_error_messages = {"does_not_exist": "No such category: {pk_value}."}

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return Category.objects.none()
        return selectors.categories_for(user=request.user)


class CategorySerializer(ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "created_at"]
        read_only_fields = ["id", "created_at"]


def _money(value: Decimal) -> str:
    return f"{value:.2f}"  # exact: Decimal formatting never goes through float


_UTC_ZONE = zoneinfo.ZoneInfo("UTC")  # cached by zoneinfo: the object Django's UTC setting gives


def _instant(value: datetime.datetime | None, zone: datetime.tzinfo) -> str | None:
    """DRF's ISO 8601 form of a datetime: in the given time zone, UTC written as `Z`."""
    if value is None:
        return None
    if zone is _UTC_ZONE:  # the default zone: Python's own UTC converts faster
        zone = datetime.UTC
    if value.tzinfo is not zone:
        value = value.astimezone(zone)
    if zone is datetime.UTC:
        # orjson writes a UTC instant as isoformat() does (microseconds only when not zero),
        # with `Z` for the offset, in C; two a row, a page of rows a request.
        return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def transaction_representation(
    row: Mapping[str, Any], zone: datetime.tzinfo | None = None
) -> dict[str, Any]:
    """A transaction as clients see it, from plain column values (TRANSACTION_VALUES).

    The list serialises pages of `values()` rows through this directly: building model instances
    and walking serializer fields for each row cost more than the queries. A test holds it equal to
    what the serializer's fields would give. `zone` is the current time zone, which a page looks
    up once rather than twice a row.
    """
    zone = zone or timezone.get_current_timezone()
    return {
        "id": row["id"],
        "type": row["type"],
        "description": row["description"],
        "amount": _money(row["amount"]),
        "date": row["date"].isoformat(),
        "category": row["category_id"],
        "category_name": row["category__name"],
        "created_at": _instant(row["created_at"], zone),
        "updated_at": _instant(row["updated_at"], zone),
    }


def summary_representation(row: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A summary row as clients see it, from a summary selector's row: the `names` (the summary
    serializer's fields, in its order), money as two-place strings. What the serializer gives,
    without walking its fields for every row; the serializers stay to describe the schema, and a
    test holds the two equal."""
    representation = {}
    for name in names:
        value = row[name]
        representation[name] = _money(value) if isinstance(value, Decimal) else value
    return representation


@functools.cache
def field_names(serializer_class: type[serializers.Serializer]) -> tuple[str, ...]:
    """The names of a serializer's fields, in order: found once per class, not by building an
    instance (and its fields) for every request."""
    return tuple(serializer_class().fields)


process_state.register("ledger: serializer field names", field_names.cache_clear)


def transaction_values(tx: Transaction) -> dict[str, Any]:
    """The TRANSACTION_VALUES of a model instance."""
    return {
        **{name: getattr(tx, name) for name in TRANSACTION_VALUES if "__" not in name},
        "category__name": tx.category.name if tx.category_id is not None else None,
    }


class TransactionSerializer(ModelSerializer):
    """A transaction as clients see it. Amounts are strings with two places: `"-20.00"`.

    An expense is stored negative whatever sign was sent; an income must be positive.
    """

    type = serializers.ChoiceField(choices=TransactionType.choices)
    amount = serializers.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        help_text="Expenses are stored negative whatever sign is sent; incomes must be positive.",
    )
    category = OwnCategoryField(required=False, allow_null=True)
    category_name = serializers.CharField(
        source="category.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Transaction
        fields = [
            "id",
            "type",
            "description",
            "amount",
            "date",
            "category",
            "category_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_representation(self, instance: Transaction) -> dict[str, Any]:
        return transaction_representation(transaction_values(instance))


class TypedTransactionSerializer(TransactionSerializer):
    """For `incomes/` and `expenses/`: the type comes from the endpoint."""

    type = serializers.ChoiceField(choices=TransactionType.choices, read_only=True)


def _total_field() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=SUMMARY_DIGITS, decimal_places=2, read_only=True)


# The summary's `list` answers one object of totals, not a list (for the schema).
@extend_schema_serializer(many=False)
class SummarySerializer(serializers.Serializer):
    income = _total_field()
    expense = _total_field()
    balance = _total_field()
    count = serializers.IntegerField(read_only=True)


class MonthlySummarySerializer(SummarySerializer):
    month = serializers.CharField(read_only=True, help_text="YYYY-MM")


class CategorySummarySerializer(SummarySerializer):
    category = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="null for transactions without a category"
    )
    category_name = serializers.CharField(read_only=True, allow_null=True)


class TransactionValuesSerializer(serializers.Serializer):
    type = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=2)
    date = serializers.DateField()
    category = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField()


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class TransactionHistorySerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=["created", "updated", "deleted"])
    at = serializers.DateTimeField()
    by = serializers.EmailField(allow_null=True, help_text="Who made the change.")
    values = TransactionValuesSerializer(help_text="The transaction as it was after the change.")
    changes = ChangeSerializer(many=True, help_text="What this change altered (empty on create).")


class BatchTransactionSerializer(TransactionSerializer):
    """One row of `transactions/batch/`: a transaction, with an optional external id."""

    external_id = serializers.CharField(
        max_length=255,
        required=False,
        allow_null=True,
        allow_blank=False,
        help_text="Your id for it; a row whose external id you already have is a duplicate.",
    )

    class Meta(TransactionSerializer.Meta):
        fields = [*TransactionSerializer.Meta.fields, "external_id"]


class BatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position in the list sent, from 0.")
    status = serializers.ChoiceField(choices=["created", "duplicate", "invalid"])
    id = serializers.IntegerField(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class BatchAnswerSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    invalid = serializers.IntegerField()
    results = BatchResultSerializer(many=True)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A UTF-8 CSV (date, description, amount; optional type, category, "
        "external_id) or a Cashman JSON export."
    )


class ImportJobSerializer(ModelSerializer):
    progress = serializers.SerializerMethodField(help_text="Share of rows processed, 0 to 1.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "filename",
            "format",
            "status",
            "progress",
            "rows_total",
            "rows_processed",
            "created_count",
            "duplicate_count",
            "invalid_count",
            "failure",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, job: ImportJob) -> float:
        if job.status == ImportJob.Status.SUCCEEDED:
            return 1.0
        return round(job.rows_processed / job.rows_total, 4) if job.rows_total else 0.0


class ImportJobDetailSerializer(ImportJobSerializer):
    errors = serializers.JSONField(
        help_text="[{row, errors: {field: [messages]}}], the first 1,000."
    )

    class Meta(ImportJobSerializer.Meta):
        fields = [*ImportJobSerializer.Meta.fields, "errors"]
        read_only_fields = fields

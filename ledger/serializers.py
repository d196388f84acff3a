from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from cashman_site.serializers import ValuesListSerializer
from ledger import selectors
from ledger.choices import TransactionType
from ledger.models import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    Category,
    ImportJob,
    Transaction,
)

SUMMARY_DIGITS = 20


class OwnCategoryField(serializers.PrimaryKeyRelatedField):
    """A category id that must be one of the requesting user's (anyone else's -> 400)."""

    default_error_messages = {"does_not_exist": "No such category: {pk_value}."}

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return Category.objects.none()
        return selectors.categories_for(user=request.user)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "created_at"]
        read_only_fields = ["id", "created_at"]


class TransactionSerializer(serializers.ModelSerializer):
    """A transaction as clients see it. Amounts are strings with two places: `"-20.00"`.

    An expense is stored negative whatever sign was sent; an income must be positive.

    The one declaration of a transaction's JSON: the list reads the columns its fields name
    (`cashman_site.serializers.value_columns`) and serialises those rows as these fields would
    (`ValuesListSerializer`), without model instances.
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
        list_serializer_class = ValuesListSerializer


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


class ImportJobSerializer(serializers.ModelSerializer):
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

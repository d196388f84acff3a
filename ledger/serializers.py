from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from cashman_site.serializers import RelatedTextField, ValuesListSerializer
from ledger import selectors
from ledger.choices import TransactionStatus, TransactionType
from ledger.models import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    Account,
    Category,
    ImportJob,
    Ledger,
    Transaction,
)

SUMMARY_DIGITS = 20


@extend_schema_field(OpenApiTypes.INT)
class VisibleField(serializers.PrimaryKeyRelatedField):
    """An id of a row in one of the requesting user's ledgers: any other id is a 400, as if it
    did not exist. `selector(user=...)` gives the rows."""

    default_error_messages = {"does_not_exist": "No such {noun}: {pk_value}."}

    def __init__(self, *, noun: str, model, selector, **kwargs):
        self.noun, self.model, self.selector = noun, model, selector
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return self.model.objects.none()
        return self.selector(user=request.user)

    def fail(self, key, **kwargs):
        if key == "does_not_exist":
            kwargs["noun"] = self.noun
        super().fail(key, **kwargs)


def OwnCategoryField(**kwargs) -> VisibleField:
    return VisibleField(
        noun="category", model=Category, selector=selectors.categories_for, **kwargs
    )


def AccountField(**kwargs) -> VisibleField:
    return VisibleField(
        noun="account", model=Account, selector=selectors.account_rows_for, **kwargs
    )


def LedgerField(**kwargs) -> VisibleField:
    return VisibleField(noun="ledger", model=Ledger, selector=selectors.ledger_rows_for, **kwargs)


class CategorySerializer(serializers.ModelSerializer):
    ledger = LedgerField(
        required=False,
        help_text="The ledger it is in; on create, your personal ledger if left out.",
    )

    class Meta:
        model = Category
        fields = ["id", "ledger", "name", "rollover", "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["ledger"].read_only = True  # a category stays in its ledger
        return fields


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
    category = OwnCategoryField(
        required=False, allow_null=True, help_text="A category of the account's ledger."
    )
    category_name = RelatedTextField(source="category.name")
    account = AccountField(
        required=False,
        help_text="Where the money is; on create, your personal ledger's first open account if "
        "left out.",
    )
    ledger = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The account's ledger.")
    status = serializers.ChoiceField(
        choices=TransactionStatus.choices,
        required=False,
        help_text="pending (the default), cleared or reconciled. Only a reconciliation "
        "(accounts/{id}/reconcile/) makes a transaction reconciled; setting cleared or pending "
        "undoes it.",
    )
    transfer = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The transfer this is a leg of (TRANSFER)."
    )
    schedule = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The schedule that posted it."
    )
    occurrence_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The schedule's occurrence it is: its date before a weekend move.",
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
            "account",
            "ledger",
            "status",
            "transfer",
            "schedule",
            "occurrence_date",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        list_serializer_class = ValuesListSerializer

    def validate_status(self, value: str) -> str:
        if value == TransactionStatus.RECONCILED and (
            self.instance is None or self.instance.status != TransactionStatus.RECONCILED
        ):
            raise serializers.ValidationError(
                "Only a reconciliation (accounts/{id}/reconcile/) makes a transaction reconciled."
            )
        return value


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
    transfers_in = _total_field()
    transfers_out = _total_field()
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
    account = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
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
        # An external id the account already has makes the row a `duplicate` result: the
        # validator DRF derives from the (account, external_id) constraint, which would also make
        # both fields required, is left out.
        validators: list = []


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
    account = AccountField(
        required=False,
        help_text="The account a CSV's rows go into; your personal ledger's first open account "
        "if left out.",
    )


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField(help_text="Share of rows processed, 0 to 1.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "account",
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

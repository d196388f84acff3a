"""The JSON of budgets, their copy from month to month, and a month's budget status."""

import datetime
import re
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cashman_site.serializers import RelatedTextField
from ledger.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Budget
from ledger.serializers import SUMMARY_DIGITS, LedgerField, OwnCategoryField

MONTH_PATTERN = "^[0-9]{4}-(0[1-9]|1[0-2])$"
MONTH_ERROR = "Give a month as YYYY-MM, e.g. 2026-12."
_MONTH = re.compile(MONTH_PATTERN)


def parse_month(text: Any) -> datetime.date | None:
    """The first day of a `YYYY-MM` month; None when it is not one (2026-13, 2026-1, 2026-12-01)."""
    if not isinstance(text, str) or not _MONTH.match(text):
        return None
    try:
        return datetime.date(int(text[:4]), int(text[5:]), 1)
    except ValueError:  # year 0000
        return None


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2026-12"})
class MonthField(serializers.Field):
    """A month as `YYYY-MM`, in and out; its first day inside."""

    default_error_messages = {"invalid": MONTH_ERROR}

    def to_internal_value(self, data: Any) -> datetime.date:
        month = parse_month(data)
        if month is None:
            self.fail("invalid")
        return month  # type: ignore[return-value]

    def to_representation(self, value: datetime.date) -> str:
        return value.isoformat()[:7]


class BudgetSerializer(serializers.ModelSerializer):
    """A budget. A second budget for the same category and month is a 400 on `month`."""

    ledger = LedgerField(
        required=False, help_text="Its ledger; on create, the category's ledger if left out."
    )
    category = OwnCategoryField(help_text="A category of the budget's ledger.")
    category_name = RelatedTextField(source="category.name")
    month = MonthField(
        help_text="YYYY-MM. One budget per category and month: a second is a 400 on `month`."
    )
    amount = serializers.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        min_value=Decimal("0"),
        help_text="What you mean to spend in the category that month; 0 or more.",
    )

    class Meta:
        model = Budget
        fields = ["id", "ledger", "category", "category_name", "month", "amount", "created_at"]
        read_only_fields = ["id", "created_at"]
        # One per ledger, category and month: the service checks it and names `month`, instead
        # of the validator DRF derives from the constraint (which names no field).
        validators: list = []

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["ledger"].read_only = True  # a budget stays in its ledger
        return fields


class BudgetCopySerializer(serializers.Serializer):
    ledger = LedgerField(help_text="The ledger whose budgets are copied.")
    from_month = MonthField(help_text="YYYY-MM: the month copied.")
    to_month = MonthField(help_text="YYYY-MM: the month the copies go to; not from_month.")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["from_month"] == data["to_month"]:
            raise serializers.ValidationError(
                {"to_month": "Copy to another month than from_month."}
            )
        return data


class BudgetCopyResultSerializer(serializers.Serializer):
    created = BudgetSerializer(many=True, help_text="The budgets made in to_month.")
    skipped = BudgetSerializer(
        many=True,
        help_text="The budgets to_month already had for a category of from_month: kept as "
        "they were, not overwritten.",
    )


class BudgetStatusQuerySerializer(serializers.Serializer):
    """`budgets/status/`'s query: a ledger you are in and a month."""

    ledger = LedgerField()
    month = MonthField()


def _total(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=SUMMARY_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        read_only=True,
        help_text=help_text,
    )


class _Amounts(serializers.Serializer):
    budgeted = _total("The month's budget (0 for a rollover category without one).")
    spent = _total("The month's expenses in the category, less its refunds (its incomes).")
    carried = _total(
        "Last month's `available`, for a rollover category (negative: an overspend carried); "
        "0 for the others."
    )
    available = _total("budgeted + carried - spent.")


class BudgetStatusRowSerializer(_Amounts):
    category = serializers.IntegerField(read_only=True)
    category_name = serializers.CharField(read_only=True)
    rollover = serializers.BooleanField(read_only=True)
    over = serializers.BooleanField(read_only=True, help_text="available < 0: overspent.")


class BudgetStatusTotalSerializer(_Amounts):
    unbudgeted_spent = _total(
        "The month's spending net of refunds in each category without a row here (0 for one "
        "whose incomes exceed its expenses), plus the expenses without a category."
    )


class BudgetStatusSerializer(serializers.Serializer):
    ledger = serializers.IntegerField(read_only=True)
    month = MonthField(read_only=True)
    rows = BudgetStatusRowSerializer(many=True, read_only=True)
    total = BudgetStatusTotalSerializer(read_only=True)

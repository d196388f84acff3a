"""The JSON of schedules, their occurrences, and the cash-flow forecast."""

import datetime
from typing import Any

from rest_framework import serializers

from ledger import recurrence
from ledger.choices import Frequency, TransactionType, WeekendRule
from ledger.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Schedule
from ledger.serializers import SUMMARY_DIGITS, AccountField, LedgerField, OwnCategoryField

#: A schedule's count at most.
MAX_COUNT = 10_000
#: The last day occurrences are listed to.
LATEST = datetime.date(2199, 12, 31)


def _money(digits: int = AMOUNT_MAX_DIGITS, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=digits, decimal_places=AMOUNT_DECIMAL_PLACES, **kwargs
    )


class RuleSerializer(serializers.Serializer):
    """An RFC 5545 recurrence rule (RRULE), read by python-dateutil."""

    freq = serializers.ChoiceField(choices=Frequency.choices)
    interval = serializers.IntegerField(
        min_value=1, max_value=recurrence.MAX_INTERVAL, default=1, help_text="Every n periods."
    )
    by_month = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=12),
        required=False,
        allow_empty=False,
        max_length=12,
        help_text="Months of a yearly rule, 1 to 12 (default: the start date's month).",
    )
    by_weekday = serializers.ListField(
        child=serializers.CharField(max_length=5),
        required=False,
        allow_empty=False,
        max_length=31,
        help_text='Days of the week: "MO" to "SU", numbered in a month or year: "1MO", "-1FR".',
    )
    by_month_day = serializers.ListField(
        child=serializers.IntegerField(min_value=-31, max_value=31),
        required=False,
        allow_empty=False,
        max_length=31,
        help_text="Days of the month, 1 to 31 or -1 (the last) to -31. A day the month does not "
        "have falls on its last day.",
    )
    by_set_pos = serializers.ListField(
        child=serializers.IntegerField(min_value=-366, max_value=366),
        required=False,
        allow_empty=False,
        max_length=31,
        help_text="Which of the period's days to keep: 1 the first, -1 the last.",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field of a rule."] for name in unknown}
                )
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return recurrence.normalise(attrs)
        except recurrence.RuleError as exc:
            raise serializers.ValidationError(exc.errors) from None


class ScheduleSerializer(serializers.ModelSerializer):
    account = AccountField(help_text="Where the transactions are posted.")
    ledger = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The account's ledger.")
    type = serializers.ChoiceField(
        choices=[(t.value, t.label) for t in (TransactionType.INCOME, TransactionType.EXPENSE)]
    )
    amount = _money(help_text="Expenses are stored negative whatever sign is sent.")
    category = OwnCategoryField(
        required=False, allow_null=True, help_text="A category of the account's ledger."
    )
    count = serializers.IntegerField(
        min_value=1,
        max_value=MAX_COUNT,
        required=False,
        allow_null=True,
        help_text="How many occurrences in all (or give end_date; neither: no end).",
    )
    rule = RuleSerializer()
    weekend = serializers.ChoiceField(
        choices=WeekendRule.choices,
        required=False,
        help_text="keep (the default), before (the Friday) or after (the Monday): where an "
        "occurrence on a Saturday or Sunday is posted.",
    )
    next_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The day the next occurrence will be posted; null when the schedule has ended.",
    )
    posted_until = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The last occurrence date dealt with (posted, skipped, or before the schedule "
        "was made or last edited).",
    )

    class Meta:
        model = Schedule
        fields = [
            "id",
            "ledger",
            "account",
            "type",
            "description",
            "amount",
            "category",
            "start_date",
            "end_date",
            "count",
            "rule",
            "weekend",
            "next_date",
            "posted_until",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def given(name: str) -> Any:
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name, None)

        start, end = given("start_date"), given("end_date")
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError(
                {"end_date": "A schedule cannot end before it starts."}
            )
        if end is not None and given("count") is not None:
            raise serializers.ValidationError({"count": "Give an end date or a count, not both."})
        category, account = given("category"), given("account")
        if category is not None and account is not None and category.ledger_id != account.ledger_id:
            raise serializers.ValidationError(
                {"category": "The category is not in the account's ledger."}
            )
        return attrs


class SkipSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The occurrence's date (the rule's, before a move).")


class OccurrenceSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The rule's date.")
    post_date = serializers.DateField(help_text="The date it is posted on, after a weekend move.")
    status = serializers.ChoiceField(
        choices=["posted", "skipped", "due", "planned", "not_posted"],
        help_text="posted; skipped; due (the next run posts it); planned; not_posted (before "
        "the schedule was made or edited, or its transaction was deleted).",
    )
    transaction = serializers.IntegerField(
        allow_null=True, help_text="The transaction posted for it."
    )


class OccurrenceQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False, help_text="From this date (default: today).")
    until = serializers.DateField(
        required=False, help_text="To this date (default: a year after `since`)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and until < since:
            raise serializers.ValidationError({"until": "until comes before since."})
        for name in ("since", "until"):
            day = attrs.get(name)
            if day is not None and not recurrence.EARLIEST <= day <= LATEST:
                raise serializers.ValidationError(
                    {name: f"Give a date from {recurrence.EARLIEST} to {LATEST}."}
                )
        return attrs


class ForecastQuerySerializer(serializers.Serializer):
    account = AccountField(required=False, help_text="Forecast this account.")
    ledger = LedgerField(required=False, help_text="Or forecast all the accounts of this ledger.")
    until = serializers.DateField(
        required=False, help_text="The last day (default: 90 days from today; 5 years at most)."
    )
    budgets = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Count what is left of each month's budgets as spending to come.",
    )


class ForecastItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["transaction", "schedule", "budget"])
    description = serializers.CharField()
    amount = _money(SUMMARY_DIGITS)
    schedule = serializers.IntegerField(required=False)
    transaction = serializers.IntegerField(required=False)
    category = serializers.IntegerField(required=False, allow_null=True)


class ForecastDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    change = _money(SUMMARY_DIGITS)
    balance = _money(SUMMARY_DIGITS)
    items = ForecastItemSerializer(many=True)


class ForecastSerializer(serializers.Serializer):
    today = serializers.DateField()
    until = serializers.DateField()
    opening_balance = _money(SUMMARY_DIGITS, help_text="The balance at the end of today.")
    closing_balance = _money(SUMMARY_DIGITS)
    lowest = ForecastDaySerializer(
        help_text="The day of the lowest balance: today, with no items, if it never goes lower."
    )
    first_negative = serializers.DateField(
        allow_null=True, help_text="The first day the balance goes below zero; null if none."
    )
    days = ForecastDaySerializer(many=True)

"""Planning: budgets per category and month, and schedules of recurring transactions with the
occurrences they skip. The transactions a schedule posts are ordinary ones that name it
(`Transaction.schedule`, `Transaction.occurrence_date`)."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from ledger import recurrence
from ledger.choices import TransactionType, WeekendRule
from ledger.models.base import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, LedgerRow, signed_amount
from ledger.models.households import Account, Ledger


class Budget(LedgerRow):
    """How much a ledger means to spend in one category in one month."""

    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="budgets")
    category = models.ForeignKey(
        "ledger.Category", on_delete=models.CASCADE, related_name="budgets"
    )
    month = models.DateField(help_text="The month's first day.")
    amount = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    class Meta:
        ordering = ["-month", "category__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ledger", "category", "month"],
                name="ledger_budget_category_month_unique",
                violation_error_message="This category already has a budget for this month.",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="ledger_budget_amount_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["ledger", "month"], name="ledger_budget_month_idx")]

    def __str__(self) -> str:
        return f"{self.category_id} {self.month:%Y-%m}: {self.amount}"


class Schedule(LedgerRow):
    """A transaction that repeats by an RFC 5545 rule (`rule`, read by `ledger.recurrence`).

    `posted_until` is the last occurrence date already dealt with (posted, or left behind by an
    edit); `next_date` the day the next occurrence is due to be posted (after its weekend move),
    None when the schedule has ended: the beat task reads the schedules due by that index.
    """

    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="schedules")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="schedules")
    category = models.ForeignKey(
        "ledger.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="schedules",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="schedules_created",
    )
    type = models.CharField(
        max_length=8,
        choices=[(t.value, t.label) for t in (TransactionType.INCOME, TransactionType.EXPENSE)],
    )
    description = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    rule = models.JSONField(help_text="freq, interval, by_weekday, by_month_day, by_set_pos.")
    weekend = models.CharField(max_length=6, choices=WeekendRule.choices, default=WeekendRule.KEEP)
    posted_until = models.DateField(null=True, blank=True, editable=False)
    next_date = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    class Meta:
        ordering = ["description", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type=TransactionType.INCOME, amount__gt=0)
                | models.Q(type=TransactionType.EXPENSE, amount__lt=0),
                name="ledger_schedule_sign_matches_type",
                violation_error_message="Incomes must be positive and expenses negative.",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="ledger_schedule_end_after_start",
                violation_error_message="A schedule cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(count__isnull=True),
                name="ledger_schedule_end_date_or_count",
                violation_error_message="Give an end date or a count, not both.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_date"],
                condition=models.Q(next_date__isnull=False),
                name="ledger_schedule_due_idx",
            ),
            models.Index(fields=["ledger", "account"], name="ledger_schedule_ledger_idx"),
        ]

    def __str__(self) -> str:
        return self.description

    def clean(self) -> None:
        """The rules a schedule keeps whoever writes it: sign, ledger, category, dates, rule."""
        errors: dict[str, Any] = {}
        self.description = (self.description or "").strip()
        if not self.description:
            errors["description"] = "A description cannot be blank."
        if self.amount is not None and self.type in TransactionType.values:
            try:
                self.amount = signed_amount(self.type, self.amount)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if self.account_id is not None:
            self.ledger_id = self.account.ledger_id
        if self.category is not None and self.category.ledger_id != self.ledger_id:
            errors["category"] = "The category is not in the account's ledger."
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "A schedule cannot end before it starts."
        if self.end_date is not None and self.count is not None:
            errors["count"] = "Give an end date or a count, not both."
        if self.start_date is not None and self.start_date < recurrence.EARLIEST:
            errors["start_date"] = f"Give a date from {recurrence.EARLIEST} on."
        try:
            self.rule = recurrence.normalise(self.rule)
        except recurrence.RuleError as exc:
            errors["rule"] = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        if errors:
            raise ValidationError(errors)
        self._check_dates()

    def _check_dates(self) -> None:
        """A rule that gives no date, or none before the schedule ends, is a mistake."""
        if self.start_date is None:
            return
        if not recurrence.gives_dates(self.rule, self.start_date):
            raise ValidationError({"rule": "This rule gives no date: no period has such a day."})
        first = recurrence.dates(self.rule, self.start_date, end=self.end_date, count=self.count)
        if next(first, None) is None:
            raise ValidationError(
                {"end_date": "The schedule has no occurrence between its start and its end."}
            )


class ScheduleSkip(models.Model):
    """An occurrence of a schedule that is not to be posted."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="skips")
    date = models.DateField(help_text="The occurrence's date, before any weekend move.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "date"],
                name="ledger_scheduleskip_unique",
                violation_error_message="This occurrence is already skipped.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} skips {self.date}"

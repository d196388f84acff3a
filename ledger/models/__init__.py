"""The ledger's models. Households (ledgers, members, invitations, accounts) are in
`households`; what every ledger row shares (the sign rule, versions, the unit-of-work guard) in
`base`."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from ledger.choices import TransactionStatus, TransactionType
from ledger.models.base import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    LedgerRow,
    LedgerRowQuerySet,
    bump_version,
    signed_amount,
    today,
)
from ledger.models.households import INVITATION_DAYS, Account, Invitation, Ledger, Membership
from ledger.models.planning import Budget, Schedule, ScheduleSkip
from ledger.models.rollups import DayTotal, MonthTotal


class Category(LedgerRow):
    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=100)
    rollover = models.BooleanField(
        default=False,
        db_default=False,  # rows written in SQL (a seed, psql) need not name it
        help_text="Whether what is left of (or overspent on) this category's budget carries into "
        "the next month. Without it, each month starts afresh.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "ledger",
                Lower("name"),
                name="ledger_category_ledger_name_ci_unique",
                violation_error_message="This ledger already has a category with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = self.name.strip()
        if not self.name:
            raise ValidationError({"name": "A category needs a name."})


class Transfer(models.Model):
    """Money moved between two accounts: two transactions of type TRANSFER (its legs), negative on
    the account it leaves and positive on the one it reaches, written, changed and deleted
    together. The accounts may be in different ledgers."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Transfer {self.pk}"


class Transaction(LedgerRow):
    # The account's ledger, kept on the row so that every read is scoped by an index of its own.
    # Neither foreign key has an index of its own: the composite indexes below start with each,
    # and every insert would pay for two more.
    ledger = models.ForeignKey(
        Ledger, on_delete=models.CASCADE, related_name="transactions", db_index=False
    )
    account = models.ForeignKey(
        Account,
        db_index=False,
        on_delete=models.RESTRICT,
        related_name="transactions",
        help_text="An account with transactions cannot be deleted: archive it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transactions_created",
    )
    type = models.CharField(max_length=8, choices=TransactionType.choices)
    description = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)
    date = models.DateField(default=today)
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transactions",
        help_text="Deleting a category keeps its transactions, without a category.",
    )
    # NULL, not "", means "none": the per-account unique constraints skip NULLs.
    external_id = models.CharField(  # noqa: DJ001
        max_length=255,
        null=True,
        blank=True,
        help_text="The id the bank or another app gave it; unique per account. Imports skip a row "
        "whose external id is already there.",
    )
    fingerprint = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text="For imported rows without an external id: a hash of date, amount and "
        "description (of the source row, for a restored export), so that importing the same "
        "file again adds nothing.",
    )
    status = models.CharField(
        max_length=10,
        choices=TransactionStatus.choices,
        default=TransactionStatus.PENDING,
        help_text="pending, cleared (seen on the bank's statement) or reconciled (checked against "
        "a statement's balance: its amount, date and account are then fixed).",
    )
    transfer = models.ForeignKey(
        Transfer,
        on_delete=models.CASCADE,
        db_index=False,  # a partial index below: most rows are no transfer's
        null=True,
        blank=True,
        related_name="legs",
        help_text="The transfer this is a leg of (type TRANSFER).",
    )
    schedule = models.ForeignKey(
        Schedule,
        on_delete=models.SET_NULL,
        db_index=False,  # the unique constraint below starts with it
        null=True,
        blank=True,
        related_name="transactions",
        help_text="The schedule that posted it.",
    )
    occurrence_date = models.DateField(
        null=True,
        blank=True,
        help_text="The schedule's occurrence it is (its date before a weekend move).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    # History is read by transaction id: its other foreign keys need no index, which every
    # write would pay for.
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        cascade_delete_history=False,
        no_db_index=["ledger", "account", "created_by", "transfer", "schedule"],
    )

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(type=TransactionType.INCOME, amount__gt=0)
                    | models.Q(type=TransactionType.EXPENSE, amount__lt=0)
                    | (models.Q(type=TransactionType.TRANSFER) & ~models.Q(amount=0))
                ),
                name="ledger_transaction_sign_matches_type",
                violation_error_message="Incomes must be positive and expenses negative.",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(type=TransactionType.TRANSFER, transfer__isnull=False)
                    | (~models.Q(type=TransactionType.TRANSFER) & models.Q(transfer__isnull=True))
                ),
                name="ledger_transaction_transfer_legs",
                violation_error_message="Only a transfer's legs are of type TRANSFER.",
            ),
            models.CheckConstraint(
                condition=~models.Q(description=""),
                name="ledger_transaction_description_not_empty",
            ),
            models.UniqueConstraint(
                fields=["account", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="ledger_transaction_account_external_id_unique",
                violation_error_message="This account already has a transaction with this "
                "external id.",
            ),
            models.UniqueConstraint(
                fields=["schedule", "occurrence_date"],
                condition=models.Q(schedule__isnull=False),
                name="ledger_transaction_schedule_occurrence_unique",
                violation_error_message="This occurrence of the schedule is already posted.",
            ),
            models.UniqueConstraint(
                fields=["account", "fingerprint"],
                condition=models.Q(fingerprint__isnull=False),
                name="ledger_transaction_account_fingerprint_unique",
            ),
        ]
        indexes = [
            # The default list order, per ledger: every read is scoped by ledger.
            models.Index(fields=["ledger", "-date", "-id"], name="ledger_tx_ledger_date_idx"),
            models.Index(fields=["ledger", "type", "-date"], name="ledger_tx_ledger_type_date_idx"),
            models.Index(fields=["ledger", "category"], name="ledger_tx_ledger_category_idx"),
            # An account's balances and its reconciliation.
            models.Index(fields=["account", "date"], name="ledger_tx_account_date_idx"),
            models.Index(
                fields=["transfer"],
                condition=models.Q(transfer__isnull=False),
                name="ledger_tx_transfer_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.description} {self.amount}"

    def clean(self) -> None:
        if self.description is not None:
            self.description = self.description.strip()
            if not self.description:
                raise ValidationError({"description": "A description cannot be blank."})
        if self.amount is not None and self.type in TransactionType.values:
            self.amount = signed_amount(self.type, self.amount)
        if self.account_id is not None:
            self.ledger_id = self.account.ledger_id
        if self.category is not None and self.category.ledger_id != self.ledger_id:
            raise ValidationError({"category": "The category is not in the account's ledger."})

    def clean_for_owner(self) -> None:
        """`full_clean()` without its queries, for writes whose account and category the caller
        has already resolved to ones the user may use: the field validators and `clean()` (the
        sign rule, the ledger) run, and the rest of the constraints are left to the database,
        which enforces them all."""
        self.full_clean(
            exclude=["ledger", "account", "created_by", "category", "transfer", "fingerprint"],
            validate_unique=False,
            validate_constraints=False,
        )


class IdempotencyKey(models.Model):
    """The stored answer to the first request made with an `Idempotency-Key`.

    The unique constraint on (user, key) is what makes a create happen once: a second request with
    the key cannot insert its row, and is answered from this one instead.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="ledger_idempotency_user_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class ImportJob(models.Model):
    """A file of transactions being imported by one user into an account, by a Celery worker or
    in-process."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON = "json", "Cashman JSON export"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="import_jobs",
        help_text="Where the rows go.",
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=4, choices=Format.choices)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="Per-row errors (the first 1,000)."
    )
    failure = models.TextField(blank=True, help_text="Why the whole job failed, if it did.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker last committed a batch of this job."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker started (or resumed) this job."
    )
    request_id = models.CharField(
        max_length=64, blank=True, help_text="The upload's request id, repeated in the logs."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="ledger_import_owner_idx"),
            # The sweeper's look-up of jobs left pending or running (ledger.imports.stale_jobs).
            models.Index(
                fields=["status", "heartbeat_at"],
                condition=models.Q(status__in=["pending", "running"]),
                name="ledger_import_unfinished_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"


__all__ = [
    "AMOUNT_DECIMAL_PLACES",
    "AMOUNT_MAX_DIGITS",
    "INVITATION_DAYS",
    "Account",
    "Budget",
    "Category",
    "DayTotal",
    "IdempotencyKey",
    "ImportJob",
    "Invitation",
    "Ledger",
    "LedgerRow",
    "LedgerRowQuerySet",
    "Membership",
    "MonthTotal",
    "Schedule",
    "ScheduleSkip",
    "Transaction",
    "Transfer",
    "bump_version",
    "signed_amount",
    "today",
]

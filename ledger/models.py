import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ledger import scope
from ledger.choices import TransactionType

# Up to 999,999,999,999.99: more than any household moves.
AMOUNT_MAX_DIGITS = 14
AMOUNT_DECIMAL_PLACES = 2


def signed_amount(type_: str, amount: Decimal) -> Decimal:
    """The sign rule, the one place it lives.

    An income must be positive; an expense is stored negative whatever sign it was given, and may
    not be zero. The database's CheckConstraint holds the same rule for every other path.
    """
    if type_ == TransactionType.INCOME:
        if amount <= 0:
            raise ValidationError({"amount": "An income must be a positive amount."})
        return amount
    if amount == 0:
        raise ValidationError({"amount": "An expense cannot be zero."})
    return -abs(amount)


def bump_version(instance: models.Model, save_kwargs: dict) -> None:
    """A save() of an existing row (the admin's, say) is a write too: it gets a new version.

    The API's conditional writes do not come through here: they are one UPDATE ... WHERE
    version = n in the services.
    """
    if not instance._state.adding:
        instance.version += 1  # type: ignore[attr-defined]
        if save_kwargs.get("update_fields") is not None:
            save_kwargs["update_fields"] = [*save_kwargs["update_fields"], "version"]


class LedgerRowQuerySet(models.QuerySet):
    """Writes of many rows at once, refused outside a unit of work as a row's own are. (The
    cascades of a deleted user or category write through Django's collector, not these.)"""

    def update(self, **kwargs: Any) -> int:
        _require_unit_of_work()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _require_unit_of_work()
        return super().delete()

    def bulk_create(self, *args: Any, **kwargs: Any) -> list:
        _require_unit_of_work()
        return super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        _require_unit_of_work()
        return super().bulk_update(*args, **kwargs)


class LedgerRow(models.Model):
    """A row of a user's ledger (a transaction, a category): saved and deleted only inside a unit
    of work (`ledger.services`), which ends the owner's cached answers."""

    objects = LedgerRowQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        _in_unit_of_work(self)
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs) -> Any:
        _in_unit_of_work(self)
        return super().delete(*args, **kwargs)


def _require_unit_of_work() -> Any:
    from ledger.services.unit_of_work import require  # the services import the models

    return require()


def _in_unit_of_work(row: models.Model) -> None:
    _require_unit_of_work().changed(row.owner_id)  # type: ignore[attr-defined]


def today() -> datetime.date:
    return timezone.localdate()


class Category(LedgerRow):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "owner",
                Lower("name"),
                name="ledger_category_owner_name_ci_unique",
                violation_error_message="You already have a category with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = self.name.strip()
        if not self.name:
            raise ValidationError({"name": "A category needs a name."})


class Transaction(LedgerRow):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transactions"
    )
    type = models.CharField(max_length=7, choices=TransactionType.choices)
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
    # NULL, not "", means "none": the per-user unique constraints skip NULLs.
    external_id = models.CharField(  # noqa: DJ001
        max_length=255,
        null=True,
        blank=True,
        help_text="The id the bank or another app gave it; unique per user. Imports skip a row "
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    history = HistoricalRecords(excluded_fields=["updated_at"], cascade_delete_history=False)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(type=TransactionType.INCOME, amount__gt=0)
                    | models.Q(type=TransactionType.EXPENSE, amount__lt=0)
                ),
                name="ledger_transaction_sign_matches_type",
                violation_error_message="Incomes must be positive and expenses negative.",
            ),
            models.CheckConstraint(
                condition=~models.Q(description=""),
                name="ledger_transaction_description_not_empty",
            ),
            models.UniqueConstraint(
                fields=["owner", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="ledger_transaction_owner_external_id_unique",
                violation_error_message="You already have a transaction with this external id.",
            ),
            models.UniqueConstraint(
                fields=["owner", "fingerprint"],
                condition=models.Q(fingerprint__isnull=False),
                name="ledger_transaction_owner_fingerprint_unique",
            ),
        ]
        indexes = [
            # The default list order, per owner.
            models.Index(fields=["owner", "-date", "-id"], name="ledger_tx_owner_date_idx"),
            models.Index(fields=["owner", "type", "-date"], name="ledger_tx_owner_type_date_idx"),
            models.Index(fields=["owner", "category"], name="ledger_tx_owner_category_idx"),
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
        if self.category is not None and not scope.owns(self.owner_id, self.category):
            raise ValidationError({"category": "No such category."})

    def clean_for_owner(self) -> None:
        """`full_clean()` without its queries, for writes whose owner and category the caller has
        already resolved to the user's own: the field validators and `clean()` (the sign rule)
        run, and the rest of the constraints are left to the database, which enforces them all."""
        self.full_clean(
            exclude=["owner", "category", "fingerprint"],
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
    """A file of transactions being imported for one user, by a Celery worker or in-process."""

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

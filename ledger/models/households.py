"""Households: ledgers, the members who share them and their roles, invitations to join, and the
accounts (a current account, savings, a card) a ledger's money is kept in."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from ledger.choices import AccountKind, Role
from ledger.models.base import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, LedgerRow, today

#: How long an invitation can be accepted.
INVITATION_DAYS = 7


class Ledger(models.Model):
    """A book of accounts, transactions and categories, shared by its members."""

    name = models.CharField(max_length=100)
    personal_for = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="personal_ledger",
        help_text="The user whose own ledger this is, made at sign-up: it cannot be deleted, "
        "and that user stays its owner. Empty for a ledger made to share.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        if not self.name:
            raise ValidationError({"name": "A ledger needs a name."})


class Membership(models.Model):
    """A user in a ledger, with a role. Every read of a ledger's rows is scoped through these."""

    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=6, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ledger", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "ledger"],
                name="ledger_membership_user_ledger_unique",
                violation_error_message="This user is already a member of this ledger.",
            ),
        ]
        # (user, ledger) is the scope's look-up of a user's ledgers, by its unique index.
        indexes = [models.Index(fields=["ledger", "role"], name="ledger_membership_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.ledger} ({self.role})"


def invitation_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=INVITATION_DAYS)


class Invitation(models.Model):
    """An owner's invitation of one email address into a ledger, with a role: accepted or
    declined once, by the user signed in with that address, within `INVITATION_DAYS`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=6, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="invitations_sent",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=invitation_expiry)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(Lower("email"), "status", name="ledger_invitation_email_idx"),
            models.Index(fields=["ledger", "status"], name="ledger_invitation_ledger_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.ledger} ({self.status})"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Account(LedgerRow):
    """Where a ledger's money is kept. Its balance is its opening balance plus its transactions."""

    ledger = models.ForeignKey(Ledger, on_delete=models.CASCADE, related_name="accounts")
    name = models.CharField(max_length=100)
    kind = models.CharField(
        max_length=11, choices=AccountKind.choices, default=AccountKind.CHECKING
    )
    opening_balance = models.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, default=Decimal("0")
    )
    opening_date = models.DateField(default=today)
    archived = models.BooleanField(
        default=False, help_text="Archived accounts keep their transactions and take no new ones."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Grows by one on every write: the ETag."
    )

    class Meta:
        ordering = ["ledger", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                "ledger",
                Lower("name"),
                name="ledger_account_ledger_name_ci_unique",
                violation_error_message="This ledger already has an account with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        if not self.name:
            raise ValidationError({"name": "An account needs a name."})

from django.db import models


class TransactionType(models.TextChoices):
    INCOME = "INCOME", "Income"
    EXPENSE = "EXPENSE", "Expense"
    TRANSFER = "TRANSFER", "Transfer"


class TransactionStatus(models.TextChoices):
    """Where a transaction stands against the bank's statement."""

    PENDING = "pending", "Pending"
    CLEARED = "cleared", "Cleared"
    RECONCILED = "reconciled", "Reconciled"


#: The statuses a bank's statement has seen: what an account's cleared balance and a
#: reconciliation count.
CLEARED_STATUSES = (TransactionStatus.CLEARED, TransactionStatus.RECONCILED)


class Role(models.TextChoices):
    """A member's role in a ledger. Owners do everything; editors read and write the books;
    viewers read them."""

    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


#: The roles that may write a ledger's transactions, categories, accounts and imports.
WRITER_ROLES = (Role.OWNER, Role.EDITOR)


class AccountKind(models.TextChoices):
    CHECKING = "checking", "Checking"
    SAVINGS = "savings", "Savings"
    CASH = "cash", "Cash"
    CREDIT_CARD = "credit_card", "Credit card"
    LOAN = "loan", "Loan"
    OTHER = "other", "Other"


class Frequency(models.TextChoices):
    """How often a schedule's rule repeats (RFC 5545's FREQ)."""

    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    YEARLY = "yearly", "Yearly"


class WeekendRule(models.TextChoices):
    """Where an occurrence that falls on a Saturday or a Sunday is posted."""

    KEEP = "keep", "On the weekend day"
    BEFORE = "before", "The Friday before"
    AFTER = "after", "The Monday after"

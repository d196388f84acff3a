"""Transactions, categories and imports, already scoped to one user."""

from django.db.models import QuerySet

from accounts.models import User
from ledger import scope
from ledger.models import Category, ImportJob, Transaction


def transactions_for(
    *, user: User | int, transaction_type: str | None = None
) -> QuerySet[Transaction]:
    """The user's transactions (`user` may be an id), of one type when given."""
    transactions = scope.visible(Transaction.objects.all(), user).select_related("category")
    if transaction_type is not None:
        transactions = transactions.filter(type=transaction_type)
    return transactions


def categories_for(*, user: User) -> QuerySet[Category]:
    return scope.visible(Category.objects.all(), user)


def import_jobs_for(*, user: User) -> QuerySet[ImportJob]:
    return scope.visible(ImportJob.objects.all(), user)

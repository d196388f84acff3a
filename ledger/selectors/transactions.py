"""Transactions, categories, imports and transfers, already scoped to one user."""

import functools
from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models import QuerySet

from accounts.models import User
from cashman_site import process_state
from ledger import scope
from ledger.models import Category, ImportJob, Transaction, Transfer


def transactions_for(
    *, user: User | int, transaction_type: str | None = None
) -> QuerySet[Transaction]:
    """The user's transactions (`user` may be an id), of one type when given."""
    rows = Transaction.objects.select_related("category", "account")
    return _of_user(rows, user, transaction_type)


def _of_user(rows: QuerySet[Any, Any], user: User | int, transaction_type: str | None) -> Any:
    rows = scope.visible(rows, user)
    return rows if transaction_type is None else rows.filter(type=transaction_type)


@functools.cache
def _columns_of_every_row(columns: tuple[str, ...]) -> QuerySet[Transaction, dict[str, Any]]:
    # Built once, never run itself: resolving the columns (a join for the category's name)
    # costs more than the filters each request adds to it.
    return Transaction.objects.values(*columns)


process_state.register("ledger: the list's columns", _columns_of_every_row.cache_clear)


def transaction_rows_for(
    *, user: User | int, columns: Sequence[str], transaction_type: str | None = None
) -> QuerySet[Transaction, dict[str, Any]]:
    """`transactions_for(...).values(*columns)`: the same rows and SQL, for a list."""
    return _of_user(_columns_of_every_row(tuple(columns)), user, transaction_type)


def categories_for(*, user: User) -> QuerySet[Category]:
    return scope.visible(Category.objects.all(), user)


def import_jobs_for(*, user: User) -> QuerySet[ImportJob]:
    return scope.visible(ImportJob.objects.all(), user)


def transfers_for(*, user: User) -> QuerySet[Transfer]:
    """The transfers whose both legs the user may see, with their legs."""
    legs = Transaction.objects.select_related("account").order_by("amount")
    return scope.visible(Transfer.objects.all(), user).prefetch_related(
        models.Prefetch("legs", queryset=legs)
    )

"""Ledgers, members, invitations and accounts, already scoped to one user."""

from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from ledger import scope
from ledger.choices import CLEARED_STATUSES
from ledger.models import Account, Invitation, Ledger, Membership, MonthTotal


def ledgers_for(*, user: User) -> QuerySet[Ledger]:
    """The user's ledgers, each with the user's `role` in it."""
    role = Membership.objects.filter(ledger=OuterRef("pk"), user=user).values("role")[:1]
    return scope.visible(Ledger.objects.all(), user).annotate(role=Subquery(role))


def ledger_rows_for(*, user: User) -> QuerySet[Ledger]:
    """The user's ledgers, plain: for an id in a request's body or filter."""
    return scope.visible(Ledger.objects.all(), user)


def account_rows_for(*, user: User) -> QuerySet[Account]:
    """The accounts of the user's ledgers, plain: for an id in a request's body or filter."""
    return scope.visible(Account.objects.all(), user)


def members_of(*, user: User, ledger_id: Any) -> QuerySet[Membership]:
    """The members of one of the user's ledgers (none when it is not one of them)."""
    return (
        scope.visible(Membership.objects.filter(ledger_id=ledger_id), user)
        .select_related("user", "ledger")
        .order_by("created_at", "id")
    )


def invitations_of(*, user: User, ledger_id: Any) -> QuerySet[Invitation]:
    """The pending, unexpired invitations of one of the user's ledgers."""
    return (
        scope.visible(Invitation.objects.filter(ledger_id=ledger_id), user)
        .filter(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
        .select_related("ledger", "invited_by")
    )


def invitations_to(*, user: User) -> QuerySet[Invitation]:
    """Every invitation to the user's address, answered and expired ones too."""
    return Invitation.objects.filter(email__iexact=user.email).select_related(
        "ledger", "invited_by"
    )


def invitations_for(*, user: User) -> QuerySet[Invitation]:
    """The invitations the user may answer: to their address, pending and unexpired."""
    return invitations_to(user=user).filter(
        status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
    )


def _cents(condition: Q | None = None) -> Coalesce:
    """The sum of an account's transactions in cents, from its rollups by month."""
    months = MonthTotal.objects.filter(ledger=OuterRef("ledger"), account=OuterRef("pk"))
    if condition is not None:
        months = months.filter(condition)
    total = months.order_by().values("account").annotate(cents=Sum(F("inflow") + F("outflow")))
    return Coalesce(Subquery(total.values("cents")), Value(0), output_field=BigIntegerField())


def accounts_for(*, user: User) -> QuerySet[Account]:
    """The accounts of the user's ledgers, each with its transactions' totals in cents
    (`balance_cents`, `cleared_cents`): see `balance`."""
    return scope.visible(Account.objects.all(), user).annotate(
        balance_cents=_cents(), cleared_cents=_cents(Q(status__in=CLEARED_STATUSES))
    )


def balance(account: Account, cents_name: str) -> Decimal:
    """An account's opening balance plus a total `accounts_for` annotated, exactly (sums are in
    cents)."""
    return account.opening_balance + Decimal(getattr(account, cents_name)).scaleb(-2)

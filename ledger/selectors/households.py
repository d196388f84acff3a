"""Ledgers, members, invitations and accounts, already scoped to one user."""

from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from ledger import scope
from ledger.choices import TransactionStatus
from ledger.models import Account, Invitation, Ledger, Membership
from ledger.selectors.summaries import Cents


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
    return Coalesce(Sum(Cents("transactions__amount"), filter=condition), Value(0))


def accounts_for(*, user: User) -> QuerySet[Account]:
    """The accounts of the user's ledgers, each with its transactions' totals in cents
    (`balance_cents`, `cleared_cents`): see `balance`."""
    counted = Q(transactions__status__in=(TransactionStatus.CLEARED, TransactionStatus.RECONCILED))
    return (
        scope.visible(Account.objects.all(), user)
        .annotate(balance_cents=_cents(), cleared_cents=_cents(counted))
        .order_by("ledger", "name", "id")  # Meta.ordering is not applied to a grouped query
    )


def balance(account: Account, cents_name: str) -> Decimal:
    """An account's opening balance plus the annotated total, exactly (sums are in cents)."""
    cents = getattr(account, cents_name, None)
    if cents is None:  # an instance not read through `accounts_for`
        cents = accounts_for_id(account.pk, cents_name)
    return account.opening_balance + Decimal(cents).scaleb(-2)


def accounts_for_id(account_id: int, cents_name: str) -> int:
    counted = Q(transactions__status__in=(TransactionStatus.CLEARED, TransactionStatus.RECONCILED))
    totals = Account.objects.filter(pk=account_id).aggregate(
        balance_cents=_cents(), cleared_cents=_cents(counted)
    )
    return int(totals[cents_name] or 0)

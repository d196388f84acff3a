"""Writes of households: ledgers, their members and roles, and invitations to join them.

Each checks the actor's role through `ledger.scope`; a change of who is in a ledger marks the
users it concerns in the unit of work, so their cached answers (and the roles read with them)
end with it.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.managers import normalize_email
from accounts.models import User
from cashman_site.celery import dispatch
from ledger import scope
from ledger.choices import Role, TransactionStatus
from ledger.exceptions import Conflict
from ledger.models import (
    Account,
    Invitation,
    Ledger,
    Membership,
    Transaction,
    Transfer,
    bump_version,
)
from ledger.services.transactions import conditional_update
from ledger.services.unit_of_work import require, unit_of_work

PERSONAL_NAME = "Personal"
FIRST_ACCOUNT = "Main"


def ledger_create(*, user: User, name: str, personal: bool = False) -> Ledger:
    """A new ledger, with `user` as its owner and one account, "Main"."""
    ledger = Ledger(name=name, personal_for=user if personal else None)
    ledger.full_clean(exclude=["personal_for"])
    with unit_of_work() as unit:
        ledger.save()
        Membership.objects.create(ledger=ledger, user=user, role=Role.OWNER)
        unit.changed(ledger.pk)
        unit.members_changed(user.pk)
        Account(ledger=ledger, name=FIRST_ACCOUNT).save()
    scope.forget(user)
    return ledger


def personal_ledger(*, user: User) -> Ledger:
    """The user's own ledger, made on first need for a user who has none (made before ledgers
    were, or by a path that sends no signal)."""
    found = Ledger.objects.filter(personal_for=user).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ledger_create(user=user, name=PERSONAL_NAME, personal=True)
    except IntegrityError:  # made meanwhile, by a concurrent request
        return Ledger.objects.get(personal_for=user)


def personal_ledger_of(*, user: User) -> Ledger | None:
    """The user's own ledger, if they have one (without making it)."""
    return Ledger.objects.filter(personal_for=user).first()


def default_account(*, user: User) -> Account:
    """Where a transaction goes when no account is named: the first open account of the user's
    personal ledger."""
    accounts = Account.objects.filter(archived=False).order_by("id")
    found = accounts.filter(ledger__personal_for=user).first()
    if found is None:
        found = accounts.filter(ledger=personal_ledger(user=user)).first()
    if found is None:
        raise ValidationError(
            {"account": "Your personal ledger has no open account: name the account to use."}
        )
    return found


def ledger_update(
    *, ledger: Ledger, actor: User, name: str | None = None, if_version: int | None = None
) -> Ledger:
    scope.require_owner(actor, ledger.pk)
    if name is None:
        return ledger
    ledger.name = name
    ledger.full_clean(exclude=["personal_for"])
    with unit_of_work(ledger.pk):
        conditional_update(ledger, {"name": ledger.name}, if_version)
    return ledger


def ledger_save(*, ledger: Ledger) -> None:
    """Save a ledger as the admin's form changed it (its members are saved after it)."""
    ledger.full_clean(exclude=["personal_for"])
    bump_version(ledger, {})  # a new ETag, as any write of a ledger row gets
    with unit_of_work() as unit:
        ledger.save()
        unit.changed(ledger.pk)


def ledger_rows_save(*, ledger: Ledger, save: Callable[[], Any]) -> None:
    """Run the admin's save of a ledger's members or accounts: the members before and after it
    get new cached answers."""
    with unit_of_work(ledger.pk) as unit:
        unit.members_changed(*ledger.memberships.values_list("user_id", flat=True))
        save()
        unit.members_changed(*ledger.memberships.values_list("user_id", flat=True))


def ledger_delete(
    *,
    ledger: Ledger,
    actor: User | None,
    if_version: int | None = None,
    keep_reconciled: bool = True,
) -> None:
    """Delete a ledger and everything in it. A transfer with a leg in it goes whole: its other
    leg, in another ledger, with it, unless that leg is reconciled (409; `keep_reconciled`).
    `actor` None is staff, in the admin."""
    if actor is not None:
        scope.require_owner(actor, ledger.pk)
    if ledger.personal_for_id is not None:
        raise Conflict("A personal ledger cannot be deleted.")
    with unit_of_work(ledger.pk) as unit:
        locked = Ledger.objects.select_for_update().filter(pk=ledger.pk)
        if if_version is not None:
            locked = locked.filter(version=if_version)
        if not locked.exists():
            conditional_update(ledger, {}, if_version)  # raises: 412, or 404 if it is gone
        unit.members_changed(*ledger.memberships.values_list("user_id", flat=True))
        transfers_of_ledger_delete(ledger_id=ledger.pk, keep_reconciled=keep_reconciled)
        ledger.delete()
    if actor is not None:
        scope.forget(actor)


def transfers_of_ledger_delete(*, ledger_id: int, keep_reconciled: bool = True) -> None:
    """Delete the transfers with a leg in this ledger, both legs: a ledger about to go (with its
    user, for a personal one) leaves no half transfer in another. With `keep_reconciled`, a
    reconciled leg in another ledger refuses it all (409): its account was checked against a
    statement with it."""
    unit = require()
    ids = list(
        Transaction.objects.filter(ledger_id=ledger_id, transfer__isnull=False)
        .values_list("transfer_id", flat=True)
        .distinct()
    )
    legs = Transaction.objects.filter(transfer__in=ids)
    elsewhere = legs.exclude(ledger_id=ledger_id).filter(status=TransactionStatus.RECONCILED)
    if keep_reconciled and elsewhere.exists():
        raise Conflict(
            "A transfer of this ledger has a reconciled leg in another ledger: set that leg's "
            "status back to cleared first."
        )
    unit.changed(*legs.values_list("ledger_id", flat=True).distinct())
    legs.delete()
    Transfer.objects.filter(pk__in=ids).delete()


def ledgers_of_departing_user(*, user: User) -> None:
    """Before a user is deleted: each shared ledger they alone own passes to its longest-standing
    other member, as owner; one they are alone in is deleted."""
    owned = Membership.objects.filter(
        user=user, role=Role.OWNER, ledger__personal_for__isnull=True
    ).select_related("ledger")
    for membership in owned:
        ledger = membership.ledger
        with unit_of_work(ledger.pk) as unit:
            _lock(ledger)
            if _owners_left(ledger, without=user.pk):
                continue
            heir = ledger.memberships.exclude(user=user).order_by("created_at", "id").first()
            if heir is None:
                ledger_delete(ledger=ledger, actor=None, keep_reconciled=False)
                continue
            Membership.objects.filter(pk=heir.pk).update(role=Role.OWNER)
            unit.members_changed(heir.user_id)


def _lock(ledger: Ledger) -> None:
    """Serialise changes of a ledger's members, so two owners cannot both step down at once."""
    Ledger.objects.select_for_update().filter(pk=ledger.pk).exists()


def _reread(membership: Membership) -> Membership:
    """The membership as it is now, under the ledger's lock: its role may have changed since the
    request read it (a 404 if it is gone)."""
    found = Membership.objects.filter(pk=membership.pk).select_related("ledger").first()
    if found is None:
        raise Http404("No such member.")
    return found


def _owners_left(ledger: Ledger, *, without: int) -> int:
    return ledger.memberships.filter(role=Role.OWNER).exclude(user_id=without).count()


def member_update(*, membership: Membership, actor: User, role: str | None) -> Membership:
    """An owner changes a member's role (`role` None changes nothing, still an owner's call)."""
    ledger = membership.ledger
    scope.require_owner(actor, ledger.pk)
    if role is None:
        return membership
    with unit_of_work() as unit:
        _lock(ledger)
        membership = _reread(membership)
        if role != Role.OWNER:
            if ledger.personal_for_id == membership.user_id:
                raise Conflict("A personal ledger's own user stays its owner.")
            if membership.role == Role.OWNER and not _owners_left(
                ledger, without=membership.user_id
            ):
                raise Conflict("A ledger keeps at least one owner: make another member owner.")
        Membership.objects.filter(pk=membership.pk).update(role=role)
        membership.role = role
        unit.members_changed(membership.user_id)
    scope.forget(actor)
    return membership


def member_remove(*, membership: Membership, actor: User) -> None:
    """An owner removes a member; any member removes themselves."""
    ledger = membership.ledger
    if membership.user_id != actor.pk:
        scope.require_owner(actor, ledger.pk)
    with unit_of_work() as unit:
        _lock(ledger)
        membership = _reread(membership)
        if ledger.personal_for_id == membership.user_id:
            raise Conflict("A personal ledger's own user cannot leave it.")
        if membership.role == Role.OWNER and not _owners_left(ledger, without=membership.user_id):
            raise Conflict("A ledger keeps at least one owner: make another member owner first.")
        Membership.objects.filter(pk=membership.pk).delete()
        unit.members_changed(membership.user_id)
    scope.forget(actor)


def invitation_create(*, ledger: Ledger, actor: User, email: str, role: str) -> Invitation:
    """Invite an email address into the ledger; the email is sent by a worker once committed."""
    scope.require_owner(actor, ledger.pk)
    email = normalize_email(email)
    if ledger.memberships.filter(user__email__iexact=email).exists():
        raise Conflict("This address belongs to a member of the ledger already.")
    now = timezone.now()
    if ledger.invitations.filter(
        email__iexact=email, status=Invitation.Status.PENDING, expires_at__gt=now
    ).exists():
        raise Conflict("This address has a pending invitation to this ledger already.")
    invitation = Invitation(ledger=ledger, email=email, role=role, invited_by=actor)
    invitation.full_clean()
    with transaction.atomic():
        invitation.save()
        from ledger.tasks import send_invitation_email  # the tasks call the services

        transaction.on_commit(lambda: dispatch(send_invitation_email, invitation.pk))
    return invitation


def _answerable(invitation: Invitation) -> Invitation:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.status != Invitation.Status.PENDING:
        raise Conflict(f"This invitation was {locked.status} already.")
    if locked.expired:
        raise Conflict("This invitation has expired: ask an owner of the ledger for a new one.")
    return locked


def invitation_token(invitation: Invitation) -> str:
    """The secret the invitation's email carries: accepting takes it, so an account that only
    claims the address (an unverified sign-up, a changed profile email) cannot join. Derived from
    the invitation and SECRET_KEY, so nothing secret is stored."""
    message = f"{invitation.pk}:{invitation.email.lower()}:{invitation.created_at.isoformat()}"
    return salted_hmac("cashman.invitation", message, algorithm="sha256").hexdigest()[:40]


def _addressed_to(invitation: Invitation, user: User) -> None:
    if invitation.email.lower() != user.email.lower():
        raise Http404("No such invitation.")


def invitation_accept(*, invitation: Invitation, user: User, token: str) -> Membership:
    """Join the ledger with the invitation's role: `user` must be signed in with the invited
    address and give the token its email carried."""
    _addressed_to(invitation, user)
    if not constant_time_compare(token, invitation_token(invitation)):
        raise ValidationError({"token": "This is not the invitation's token: use its email's."})
    with unit_of_work() as unit:
        locked = _answerable(invitation)
        if Membership.objects.filter(ledger_id=locked.ledger_id, user=user).exists():
            raise Conflict("You are a member of this ledger already.")
        membership = Membership.objects.create(
            ledger_id=locked.ledger_id, user=user, role=locked.role
        )
        _answer(locked, Invitation.Status.ACCEPTED)
        unit.members_changed(user.pk)
    scope.forget(user)
    return membership


def invitation_decline(*, invitation: Invitation, user: User) -> None:
    _addressed_to(invitation, user)
    with transaction.atomic():
        _answer(_answerable(invitation), Invitation.Status.DECLINED)


def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    scope.require_owner(actor, invitation.ledger_id)
    invitation.delete()


def _answer(invitation: Invitation, status: str) -> None:
    invitation.status = status
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])

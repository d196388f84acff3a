"""Every write to a user goes through here (API, admin and management commands alike)."""

from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.managers import normalize_email
from accounts.models import RevokedTokenFamily, User
from accounts.tasks import send_welcome_email
from cashman_site.celery import dispatch

PROFILE_FIELDS = ("email", "first_name", "last_name")


def _validate_new_password(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
) -> User:
    user = User(
        email=normalize_email(email), first_name=first_name, last_name=last_name, is_staff=is_staff
    )
    _validate_new_password(password, user=user, field="password")
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Sign-up: create the account, and once it is committed, queue the welcome email."""
    user = user_create(email=email, password=password, first_name=first_name, last_name=last_name)
    # Recorded as owed: if the broker cannot take it now, beat queues it again.
    User.objects.filter(pk=user.pk).update(welcome_email_owed_since=user.date_joined)
    transaction.on_commit(lambda: dispatch(send_welcome_email, user.pk))
    return user


def user_update(*, user: User, data: dict[str, Any]) -> User:
    """Change profile fields only; the password and flags have their own services."""
    changed = [field for field in PROFILE_FIELDS if field in data]
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.full_clean()
        user.save(update_fields=changed)
    return user


def user_change_password(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": "The current password is not correct."})
    _validate_new_password(new_password, user=user, field="new_password")
    return user_set_password(user=user, password=new_password)


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """Set a new password; saving it revokes every token issued before (User.save)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def user_revoke_tokens(*, user: User) -> User:
    """Every JWT issued to `user` so far fails with 401 from now on (User.revoke_tokens)."""
    user.revoke_tokens()
    return user


@transaction.atomic
def user_set_active(*, user: User, is_active: bool) -> User:
    """Deactivating a user revokes every token they hold: they fail from the next request on,
    and stay dead if the account is activated again."""
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    if not is_active:
        user_revoke_tokens(user=user)
    return user


@transaction.atomic
def token_family_revoke(*, user: User, family: str) -> None:
    """Every token of one login (`family`: its refresh tokens and their access tokens) fails
    with 401 from now on; the user's other logins keep working. Called when a refresh token is
    used after it was rotated or logged out: the client or an attacker holds a stolen copy."""
    now = timezone.now()
    RevokedTokenFamily.objects.get_or_create(
        family=family,
        defaults={
            "user": user,
            "revoked_at": now,
            # No token of the family was issued later than now, so none outlives this.
            "expires_at": now + api_settings.REFRESH_TOKEN_LIFETIME,
        },
    )
    # Tells authentication which access tokens need the family check (accounts.authentication).
    User.objects.filter(pk=user.pk).update(token_families_revoked_at=now)


def tokens_purge_expired(*, now: datetime) -> int:
    """Delete the records of refresh tokens that expired before `now`, with their blacklist
    entries, and of token families whose every token has expired: an expired token is refused on
    its `exp` alone. Returns how many tokens went."""
    _, per_model = OutstandingToken.objects.filter(expires_at__lte=now).delete()
    RevokedTokenFamily.objects.filter(expires_at__lte=now).delete()
    return per_model.get("token_blacklist.OutstandingToken", 0)

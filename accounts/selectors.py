import datetime
import functools
from typing import cast

from django.db.models import QuerySet

from accounts.models import RevokedTokenFamily, User
from cashman_site import process_state
from cashman_site.statements import PLACEHOLDER, ModelStatement


def users_all() -> QuerySet[User]:
    """Every account, for staff; newest first."""
    return User.objects.order_by("-date_joined", "-id")


@functools.cache
def _user_by_id() -> ModelStatement:
    return ModelStatement(User.objects.filter(pk=PLACEHOLDER), lambda users: users.get())


process_state.register("accounts: user statement", _user_by_id.cache_clear)


def user_by_id(*, user_id: int) -> User | None:
    """The user with this id, or None: the statement `User.objects.get(pk=user_id)` sends,
    compiled once (`cashman_site.statements`). Authentication runs it on every request."""
    found = _user_by_id().instances(user_id)
    return cast(User, found[0]) if found else None


def token_family_revoked(*, family: str) -> bool:
    """Whether the login `family` names was revoked for a refresh token used twice."""
    return RevokedTokenFamily.objects.filter(family=family).exists()


#: A welcome email is tried again for this long after sign-up, then given up.
WELCOME_EMAIL_DAYS = 7


def users_awaiting_welcome(*, now: datetime.datetime, wait_seconds: int = 60) -> list[int]:
    """Ids of active users owed a welcome email for more than `wait_seconds` (it may still be on
    its way before that) and less than WELCOME_EMAIL_DAYS."""
    return list(
        User.objects.filter(
            is_active=True,
            welcome_email_owed_since__lt=now - datetime.timedelta(seconds=wait_seconds),
            welcome_email_owed_since__gte=now - datetime.timedelta(days=WELCOME_EMAIL_DAYS),
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )

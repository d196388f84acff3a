import datetime

from django.db.models import QuerySet

from accounts.models import RevokedTokenFamily, User
from cashman_site import fastpaths


def users_all() -> QuerySet[User]:
    """Every account, for staff; newest first."""
    return User.objects.order_by("-date_joined", "-id")


def user_by_id(*, user_id: int) -> User | None:
    """The user with this id, or None. Authentication runs it on every request: through a fast
    path (`cashman_site.fastpaths.get_by_pk`)."""
    return fastpaths.get_by_pk(User, user_id)


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

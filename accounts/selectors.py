import functools
from typing import cast

from django.db.models import QuerySet

from accounts.models import User
from cashman_site.statements import PLACEHOLDER, ModelStatement


def users_all() -> QuerySet[User]:
    """Every account, for staff; newest first."""
    return User.objects.order_by("-date_joined", "-id")


@functools.cache
def _user_by_id() -> ModelStatement:
    return ModelStatement(User.objects.filter(pk=PLACEHOLDER), lambda users: users.get())


def user_by_id(*, user_id: int) -> User | None:
    """The user with this id, or None: the statement `User.objects.get(pk=user_id)` sends,
    compiled once (`cashman_site.statements`). Authentication runs it on every request."""
    found = _user_by_id().instances(user_id)
    return cast(User, found[0]) if found else None

from django.db.models import QuerySet

from accounts.models import User


def users_all() -> QuerySet[User]:
    """Every account, for staff; newest first."""
    return User.objects.order_by("-date_joined", "-id")

from rest_framework.permissions import IsAdminUser


class IsStaff(IsAdminUser):
    """Staff accounts only (`is_staff`); anyone else gets 403, anonymous callers 401."""

    message = "Only staff may manage users."

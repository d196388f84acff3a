from django.conf import settings
from rest_framework import exceptions, status


def cool_off_seconds() -> int:
    """How long a login lockout lasts (CASHMAN_LOGIN_COOLOFF_MINUTES)."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


class LockedOut(exceptions.Throttled):
    """429 with Retry-After: too many failed logins for this account from this address."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed logins for this account from this address. Try again later."
    default_code = "locked_out"


class TooManyFailedLogins(exceptions.Throttled):
    """429 with Retry-After: too many failed logins for this account, from any address, in the
    current window (accounts.throttling.LoginAccountThrottle)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed logins for this account. Try again later."
    default_code = "login_throttled"

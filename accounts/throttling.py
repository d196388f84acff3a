"""Limits on logging in, on top of django-axes's lockout of one (account, address) pair.

- `LoginAccountThrottle`: failed logins per account, whatever the address they come from
  (CASHMAN_THROTTLE_LOGIN_ACCOUNT, 20 per 15 minutes by default). Once an account has had that
  many in the current window, every login to it (the right password too) answers 429 with
  Retry-After until the window ends. Counted on every login path (Django's `user_login_failed`).
- `LoginAddressThrottle`: the `login` scope (CASHMAN_THROTTLE_LOGIN) per address, for the
  session logins (`/admin/login/`, `/api-auth/login/`), which are Django views that DRF's
  throttles never see. It counts on the very counter `auth/token/` counts on, so the three
  logins share one budget per address.

Why a fixed window rather than a lockout: an attacker spreading guesses over many addresses gets
at most the limit per account and window, and the owner they shut out waits at most until the
window ends (Retry-After says how long); nothing stays locked and nobody has to unlock it. An
attacker who keeps failing can keep the account's logins refused window after window: that is
the price of any per-account limit, and why the window is short. Tokens and sessions the owner
already holds keep working, and so do logins from an address the account has signed in from
before. A successful login does not reset the count, so an owner signing in now and then gives an
attacker no new guesses.
"""

import functools
import hashlib
import logging
import math
import re
from collections.abc import Callable
from typing import Any

from axes.models import AccessLog
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework import exceptions
from rest_framework.request import Request

from accounts.exceptions import TooManyFailedLogins
from accounts.lockout import login_username
from cashman_site.redis_cache import CacheUnavailable
from cashman_site.throttling import (
    RATE_LIMITS_ATTR,
    RateLimit,
    SharedCacheRateThrottle,
    client_address,
    rate_limits,
)

logger = logging.getLogger("cashman.accounts")

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PERIOD = re.compile(r"(\d*)\s*([smhd])[a-z]*")


class LoginAccountThrottle(SharedCacheRateThrottle):
    """Failed logins per account in fixed windows of the shared cache; see the module docstring.

    Only failures count (`failed`); `allow_request` counts nothing. The account is the email,
    normalized as the login does, and hashed into the key (it is whatever the client typed).
    """

    scope = "login_account"

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        """DRF's `N/period`, and a number of periods too: `20/15min`, `100/2hour`."""
        if rate is None:
            return None, None
        num, _, period = rate.partition("/")
        match = _PERIOD.fullmatch(period.strip())
        if not num.strip().isdigit() or match is None:
            raise ImproperlyConfigured(f"Invalid rate {rate!r} for scope {self.scope!r}.")
        return int(num), int(match[1] or 1) * _PERIODS[match[2]]

    def allow_request(self, request: Request | HttpRequest, view: Any = None) -> bool:
        account = login_username(request, None)
        if self.rate is None or account is None:
            return True
        failures = self.cache.get(self._key(account), 0)
        remaining = max(self.num_requests - failures, 0)
        reset = math.ceil(self.reset_at - self.now)
        target = getattr(request, "_request", request)  # what RateLimitHeadersMiddleware reads
        limit = RateLimit(limit=self.num_requests, remaining=remaining, reset=reset)
        setattr(target, RATE_LIMITS_ATTR, [*rate_limits(target), limit])
        return failures < self.num_requests or _signed_in_from(account, request)

    def failed(self, account: str) -> None:
        """Count one failed login of `account` in the current window."""
        if self.rate is None:
            return
        self._increment(self._key(account))

    def _key(self, account: str) -> str:
        ident = hashlib.sha256(account.encode()).hexdigest()
        return self.window_key(self.cache_format % {"scope": self.scope, "ident": ident})


def _signed_in_from(account: str, request: Request | HttpRequest) -> bool:
    """Whether `account` has signed in from this request's address before (django-axes logs
    every successful login, on every path). Such an address is not refused for failures made
    from elsewhere, so an attacker who knows an owner's email cannot shut the owner out from
    home; it stays under the per-address rate and axes's lockout of its own failures."""
    address = client_address(request)
    return bool(address) and AccessLog.objects.filter(username=account, ip_address=address).exists()


class LoginAddressThrottle(SharedCacheRateThrottle):
    """The `login` scope per address, on the key DRF's ScopedRateThrottle gives `auth/token/`
    for an anonymous caller."""

    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


@receiver(user_login_failed, dispatch_uid="accounts.throttling.count_failed_login")
def count_failed_login(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    account = login_username(request, credentials) if request is not None else None
    if account is None:
        return
    try:
        LoginAccountThrottle().failed(account)
    except CacheUnavailable:  # Redis down: the address limits and the lockout still hold
        logger.warning("a failed login was not counted for its account: the cache is down")


def check_login_account(request: Request) -> None:
    """TooManyFailedLogins (429) if the account this login names is over its failure limit."""
    throttle = LoginAccountThrottle()
    if not throttle.allow_request(request):
        raise TooManyFailedLogins(wait=throttle.wait())


def session_login_throttled(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Wrap a Django login view (the admin's, the browsable API's): a POST over the address's
    `login` rate or its account's failure limit answers 429 in plain text with Retry-After, as a
    lockout does on these pages; anything else goes to the view."""

    @functools.wraps(view)
    def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            refusal = _session_login_refusal(request)
            if refusal is not None:
                message, wait = refusal
                response = HttpResponse(
                    message, status=429, content_type="text/plain; charset=utf-8"
                )
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return throttled


def _session_login_refusal(request: HttpRequest) -> tuple[str, int] | None:
    """(message, seconds to wait) if the login is refused, as the API words it."""
    # Both are counted, as DRF counts every throttle of a view; the longer wait is the answer.
    address, account = LoginAddressThrottle(), LoginAccountThrottle()
    address_ok = address.allow_request(request, None)  # type: ignore[arg-type]
    account_ok = account.allow_request(request)
    if address_ok and account_ok:
        return None
    wait = max(t.wait() for t, ok in ((address, address_ok), (account, account_ok)) if not ok)
    refusal = exceptions.Throttled(wait) if account_ok else TooManyFailedLogins(wait)
    return str(refusal.detail), math.ceil(wait)

"""django-axes hooks: who is logging in, from where, and what a locked-out client is told.

Axes counts failed logins per account and address (AXES_LOCKOUT_PARAMETERS). The account is the
email, lower-cased as the login itself does, so `Ada@example.com` and `ada@example.com` share a
count; the address is the one the throttles use (NUM_PROXIES trusted proxies).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.exceptions import LockedOut, cool_off_seconds
from accounts.managers import normalize_email
from cashman_site.throttling import client_address

LOCKED_OUT_MESSAGE = str(LockedOut.default_detail)


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a login attempt names: `email` (token endpoint) or `username` (forms)."""
    sources = [credentials, getattr(request, "data", None), request.POST]
    for source in sources:
        if not isinstance(source, dict):  # absent, or a JSON body that is not an object
            continue
        for field in ("email", "username"):
            value = source.get(field)
            if isinstance(value, str) and value:
                return normalize_email(value)
    return None


def client_ip(request: HttpRequest) -> str | None:
    return client_address(request)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """429 with Retry-After: JSON under /api/, plain text on the admin and browsable-API login."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": LOCKED_OUT_MESSAGE, "code": "locked_out"}, status=429
        )
    else:
        response = HttpResponse(
            LOCKED_OUT_MESSAGE, status=429, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(cool_off_seconds())
    return response

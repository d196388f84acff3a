"""Bearer-token authentication that also refuses revoked tokens."""

import functools
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import (
    aware_utcnow,
    datetime_from_epoch,
    get_md5_hash_password,
)

from accounts.selectors import token_family_revoked, user_by_id
from accounts.tokens import token_family, token_generation
from cashman_site import process_state

REVOKED_MESSAGE = "This token was revoked (password change or deactivation)."
FAMILY_REVOKED_MESSAGE = (
    "This token was revoked: a refresh token of the same login was used after it was replaced."
)
#: A refresh that had passed its checks when its family was revoked may still issue tokens a
#: moment later; tokens issued up to this long after a revocation are checked too.
IN_FLIGHT = timedelta(minutes=1)
#: Verified access tokens each process remembers (about 2 KB each).
VERIFIED_TOKENS = 1024


def check_not_revoked(token: Any, user: Any) -> None:
    """401 unless the token was issued in the user's current generation."""
    if token_generation(token) != user.token_generation:
        raise AuthenticationFailed(REVOKED_MESSAGE, code="token_revoked")


def check_family_not_revoked(token: Any) -> None:
    """401 if the login the token descends from was revoked (a refresh token used twice)."""
    family = token_family(token)
    if family is not None and token_family_revoked(family=family):
        raise AuthenticationFailed(FAMILY_REVOKED_MESSAGE, code="token_revoked")


def _may_be_in_a_revoked_family(token: Any, user: Any) -> bool:
    """Only a token issued before the user's last family revocation (or during a refresh then in
    flight) can belong to a revoked family: any other token needs no query. An access token
    carries the `iat` of the refresh token it came from, earlier than its own issue, so it is
    checked at least as long as it needs to be."""
    revoked_at = user.token_families_revoked_at
    if revoked_at is None:
        return False
    issued = token.get("iat")
    return issued is None or datetime_from_epoch(issued) <= revoked_at + IN_FLIGHT


@functools.lru_cache(maxsize=VERIFIED_TOKENS)
def _verified(raw_token: bytes) -> Any:
    # A failure raises, and lru_cache keeps nothing of it.
    return authentication.JWTAuthentication().get_validated_token(raw_token)


process_state.register("accounts: verified tokens", _verified.cache_clear)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's, plus the generation check. It reads the user row simplejwt loads anyway, so
    revocation costs no extra query.

    A token's signature and claims are checked once per process and remembered by its exact
    bytes (the same bytes verify the same way): a client sends the same token for minutes, and
    checking it again showed in every request's profile. Its expiry is checked again at every use; an
    expired one is handed back to simplejwt, which refuses it as usual. Revocation never depended
    on this check: it is the generation, read from the user row each request.

    An access token of a revoked family (accounts.services.token_family_revoke) is refused too.
    That costs a query only for the tokens the user row says may be in one: those issued before
    the user's last family revocation, for at most their lifetime; otherwise none.
    """

    def get_validated_token(self, raw_token: bytes) -> Any:
        token = _verified(raw_token)
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            return super().get_validated_token(raw_token)  # expired: simplejwt's own 401
        return token

    def get_user(self, validated_token: Any) -> Any:
        user = self._user(validated_token)
        check_not_revoked(validated_token, user)
        if _may_be_in_a_revoked_family(validated_token, user):
            check_family_not_revoked(validated_token)
        return user

    def _user(self, validated_token: Any) -> Any:
        """simplejwt's `get_user`, reading the user with `user_by_id`'s statement compiled once
        instead of building `User.objects.get(...)` at every request; the same checks, in the
        same order, with simplejwt's messages. simplejwt writes the id as a string of digits,
        which the ORM would turn into an integer as `int()` does; any other claim (none that
        Cashman mints) goes to simplejwt's own lookup."""
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if not (
            api_settings.USER_ID_FIELD == "id"
            and isinstance(user_id, str)
            and user_id.isascii()
            and user_id.isdigit()
            and len(user_id) <= 18  # within the column's range: the ORM handles the rest
        ):
            return super().get_user(validated_token)
        user = user_by_id(user_id=int(user_id))
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        return user

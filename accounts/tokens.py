"""JWTs stamped with the user's token generation, so that raising it revokes them all, and with
their family, so that a refresh token used twice revokes every token of its login."""

from typing import Any, cast

from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.settings import api_settings

from accounts.models import User

GENERATION_CLAIM = "gen"
#: The jti of the refresh token a login issued, carried by every token rotated from it (and by
#: their access tokens): one login's chain of tokens, revoked together (RevokedTokenFamily).
FAMILY_CLAIM = "family"


def token_generation(token: Any) -> int:
    """The generation a token was issued in; tokens issued before this claim existed count as 0."""
    return token.get(GENERATION_CLAIM, 0)


def token_family(token: Any) -> str | None:
    """The login a token descends from; None for a token issued before families existed."""
    return token.get(FAMILY_CLAIM)


class RefreshToken(tokens.RefreshToken):
    """simplejwt's refresh token plus the `gen` and `family` claims, which its access tokens
    copy."""

    @classmethod
    def for_user(cls, user: User) -> "RefreshToken":  # type: ignore[override]
        token = cast("RefreshToken", super().for_user(user))
        token[GENERATION_CLAIM] = user.token_generation
        token[FAMILY_CLAIM] = token[api_settings.JTI_CLAIM]
        return token


class PresentedRefreshToken(RefreshToken):
    """A refresh token sent to `auth/token/refresh/`: its signature, expiry and type are checked
    as simplejwt does, but not the blacklist. The refresh consults the blacklist itself, since a
    blacklisted token sent there is one used twice, which revokes its family."""

    def check_blacklist(self) -> None:
        return None

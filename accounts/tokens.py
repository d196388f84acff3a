"""JWTs stamped with the user's token generation, so that raising it revokes them all."""

from typing import Any, cast

from rest_framework_simplejwt import tokens

from accounts.models import User

GENERATION_CLAIM = "gen"


def token_generation(token: Any) -> int:
    """The generation a token was issued in; tokens issued before this claim existed count as 0."""
    return token.get(GENERATION_CLAIM, 0)


class RefreshToken(tokens.RefreshToken):
    """simplejwt's refresh token plus the `gen` claim, which its access tokens copy."""

    @classmethod
    def for_user(cls, user: User) -> "RefreshToken":  # type: ignore[override]
        token = cast("RefreshToken", super().for_user(user))
        token[GENERATION_CLAIM] = user.token_generation
        return token

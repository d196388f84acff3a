"""Bearer-token authentication that also refuses revoked tokens."""

from typing import Any

from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.tokens import token_generation

REVOKED_MESSAGE = "This token was revoked (password change or deactivation)."


def check_not_revoked(token: Any, user: Any) -> None:
    """401 unless the token was issued in the user's current generation."""
    if token_generation(token) != user.token_generation:
        raise AuthenticationFailed(REVOKED_MESSAGE, code="token_revoked")


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's, plus the generation check. It reads the user row simplejwt loads anyway, so
    revocation costs no extra query."""

    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        check_not_revoked(validated_token, user)
        return user

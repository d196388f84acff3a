from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer as BaseTokenObtainPairSerializer,
)
from rest_framework_simplejwt.serializers import (
    TokenRefreshSerializer as BaseTokenRefreshSerializer,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts import services
from accounts.authentication import check_family_not_revoked, check_not_revoked
from accounts.exceptions import LockedOut, cool_off_seconds
from accounts.managers import normalize_email
from accounts.models import User
from accounts.tokens import FAMILY_CLAIM, PresentedRefreshToken, RefreshToken


def _validate_email_free(email: str, *, exclude: User | None = None) -> str:
    email = normalize_email(email)
    taken = User.objects.filter(email=email)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise serializers.ValidationError("A user with this email address already exists.")
    return email


class UserSerializer(serializers.ModelSerializer):
    """A user's own profile (`auth/me/`)."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_staff", "date_joined"]
        read_only_fields = ["id", "is_staff", "date_joined"]

    def validate_email(self, value: str) -> str:
        return _validate_email_free(value, exclude=self.instance)


class RegisterSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, style={"input_type": "password"}, trim_whitespace=False
    )

    class Meta:
        model = User
        fields = ["id", "email", "password", "first_name", "last_name", "date_joined"]
        read_only_fields = ["id", "date_joined"]
        # The uniqueness check is ours (case-insensitive), not the model field's.
        extra_kwargs = {"email": {"validators": []}}

    def validate_email(self, value: str) -> str:
        return _validate_email_free(value)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    new_password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class StaffUserSerializer(serializers.ModelSerializer):
    """What staff see and set through `/api/v1/users/`."""

    password = serializers.CharField(
        write_only=True, style={"input_type": "password"}, trim_whitespace=False
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "password",
            "first_name",
            "last_name",
            "is_staff",
            "is_active",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["id", "is_active", "date_joined", "last_login"]
        extra_kwargs = {"email": {"validators": []}}

    def validate_email(self, value: str) -> str:
        return _validate_email_free(value, exclude=self.instance)


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(write_only=True)


class TokenObtainPairSerializer(BaseTokenObtainPairSerializer):
    """simplejwt's login, issuing generation-stamped tokens and answering 429 while django-axes
    holds the account and address locked out (even for the right password)."""

    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        request = self.context.get("request")
        try:
            data = super().validate(attrs)
        except exceptions.AuthenticationFailed:
            # Axes marks the request it was given (simplejwt passes DRF's request) when this
            # attempt was refused for a lockout, or when this failure started one.
            if getattr(request, "axes_locked_out", False):
                raise LockedOut(wait=cool_off_seconds()) from None
            raise
        # A token login is a login: Django's signal resets the account's failure count in axes
        # (AXES_RESET_ON_SUCCESS) and records last_login, as a session login does.
        user_logged_in.send(sender=type(self.user), request=request, user=self.user)
        return data


class TokenRefreshSerializer(BaseTokenRefreshSerializer):
    """simplejwt's rotating refresh, closing its check-then-blacklist race (simplejwt issue 985),
    and revoking the whole family of a refresh token used twice.

    simplejwt checks that the token is not blacklisted, then blacklists it: two requests with the
    same token can both pass the check and both get new tokens. Here the old token is claimed by
    inserting its blacklist row, which the database lets exactly one transaction do (a unique
    key); the loser answers 401. Also 401 for a token whose user is gone, inactive, or whose
    tokens were revoked.

    A token that was already blacklisted (rotated, logged out, or lost such a race) is being used
    a second time: by its client or by someone who stole it, the server cannot tell which. As
    OAuth 2.0 Security BCP (RFC 9700, 4.14.2) asks, every token of its login is revoked then:
    the refresh tokens rotated from the same login token (the `family` claim) and their access
    tokens. The answer is simplejwt's 401 for a blacklisted token; the user's other logins live.
    """

    token_class = PresentedRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])  # signature, expiry, type
        user = self._active_user(refresh)
        check_not_revoked(refresh, user)
        # Tokens issued before families existed start one at their first refresh.
        family = refresh.payload.setdefault(FAMILY_CLAIM, refresh[api_settings.JTI_CLAIM])
        check_family_not_revoked(refresh)
        if not _claim(refresh):
            services.token_family_revoke(user=user, family=family)
            raise InvalidToken("Token is blacklisted")
        data = {"access": str(refresh.access_token)}
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
        data["refresh"] = str(refresh)
        return data

    def _active_user(self, refresh: RefreshToken) -> User:
        user = User.objects.filter(
            **{api_settings.USER_ID_FIELD: refresh.get(api_settings.USER_ID_CLAIM)}
        ).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        return user


@transaction.atomic
def _claim(refresh: RefreshToken) -> bool:
    """Blacklist `refresh`: False if it already was (see TokenRefreshSerializer)."""
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=refresh[api_settings.JTI_CLAIM],
        defaults={
            "user_id": refresh.get(api_settings.USER_ID_CLAIM),
            "token": str(refresh),
            "expires_at": datetime_from_epoch(refresh["exp"]),
        },
    )
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created

from django.contrib.auth import update_session_auth_hash
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import selectors, services
from accounts.models import User
from accounts.permissions import IsStaff
from accounts.serializers import (
    LogoutSerializer,
    PasswordChangeSerializer,
    RegisterSerializer,
    StaffUserSerializer,
    UserSerializer,
)
from accounts.throttling import check_login_account


@extend_schema(tags=["auth"])
class RegisterView(generics.CreateAPIView):
    """Create an account. The answer is the new user, never the password."""

    serializer_class = RegisterSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_scope = "register"

    def perform_create(self, serializer: RegisterSerializer) -> None:
        serializer.instance = services.user_register(**serializer.validated_data)


@extend_schema(tags=["auth"])
class MeView(generics.RetrieveUpdateAPIView):
    """Read or edit one's own profile."""

    serializer_class = UserSerializer

    def get_object(self) -> User:
        return self.request.user

    def perform_update(self, serializer: UserSerializer) -> None:
        serializer.instance = services.user_update(
            user=serializer.instance, data=serializer.validated_data
        )


@extend_schema(
    tags=["auth"],
    request=PasswordChangeSerializer,
    responses={204: OpenApiResponse(description="Password changed.")},
)
class PasswordChangeView(generics.GenericAPIView):
    """Change one's password; the current one must be given."""

    serializer_class = PasswordChangeSerializer
    throttle_scope = "password_change"

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **serializer.validated_data)
        if request.session is not None and request.user.is_authenticated:
            update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenObtainView(TokenObtainPairView):
    """Email and password in, an access and a refresh token out. Throttled (`login`, per
    address), limited in failed logins per account whatever the address, and guarded by
    django-axes: repeated failures lock the account out from that address (429)."""

    throttle_scope = "login"

    def check_throttles(self, request: Request) -> None:
        super().check_throttles(request)
        check_login_account(request)


@extend_schema(
    tags=["auth"],
    request=LogoutSerializer,
    responses={204: OpenApiResponse(description="The refresh token is dead.")},
)
class LogoutView(generics.GenericAPIView):
    """Blacklist a refresh token. The token itself is the credential."""

    serializer_class = LogoutSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    checks_credentials = True  # a dead or forged token answers 401 (for the schema)

    def get_authenticate_header(self, request: Request) -> str:
        # A dead token answers 401 with a challenge, as simplejwt's own token views do.
        return 'Bearer realm="api"'

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["users"])
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Staff only: list, inspect, create, deactivate and reactivate accounts."""

    serializer_class = StaffUserSerializer
    permission_classes = [IsStaff]

    def get_queryset(self) -> QuerySet[User]:
        return selectors.users_all()

    def perform_create(self, serializer: StaffUserSerializer) -> None:
        serializer.instance = services.user_create(**serializer.validated_data)

    @extend_schema(request=None, responses={200: StaffUserSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """Deactivate an account: its tokens stop working at once."""
        user = self.get_object()
        if user == request.user:
            raise ValidationError({"detail": "You cannot deactivate your own account."})
        user = services.user_set_active(user=user, is_active=False)
        return Response(self.get_serializer(user).data)

    @extend_schema(request=None, responses={200: StaffUserSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        user = services.user_set_active(user=self.get_object(), is_active=True)
        return Response(self.get_serializer(user).data)

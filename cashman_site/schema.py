"""OpenAPI generation: every operation documents the JSON errors it can answer with."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import permissions, serializers
from rest_framework_simplejwt.views import TokenViewBase


class CashmanJWTScheme(SimpleJWTScheme):
    """Cashman's JWTAuthentication (it also refuses revoked tokens) is documented as simplejwt's."""

    target_class = "accounts.authentication.JWTAuthentication"


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")


class ValidationErrorSerializer(serializers.Serializer):
    """Field name (or `non_field_errors`) to a list of messages."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


def _error(description: str, serializer=ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=serializer, description=description)


class AutoSchema(BaseAutoSchema):
    def _get_parameters(self):
        parameters = super()._get_parameters()
        # get_operation() reads the parameters before the responses: remember whether there
        # is a query string to make too long.
        self._takes_query = any(parameter["in"] == "query" for parameter in parameters)
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    response.response, code, direction=direction
                ) | {"description": response.description}
        return responses

    def _error_responses(self) -> dict[str, OpenApiResponse]:
        errors: dict[str, OpenApiResponse] = {}
        has_body = self.method in ("POST", "PUT", "PATCH")
        has_filters = self.method == "GET" and bool(self._get_filter_parameters())
        if has_body or has_filters:
            errors["400"] = _error(
                "The request or one of its fields is invalid.", ValidationErrorSerializer
            )
        if not self._allows_anonymous():
            errors["401"] = _error("No valid credentials were given.")
            errors["403"] = _error("The credentials do not allow this operation.")
        elif self._checks_credentials():
            errors["401"] = _error("The credentials or the token are not valid.")
        if "{" in self.path:
            errors["404"] = _error("No such object, or it is not yours.")
        elif self._is_paginated_list():
            errors["404"] = _error("No such page, or an invalid cursor.")
        if getattr(self, "_takes_query", False):
            errors["414"] = _error("The query string is longer than the server accepts.")
        if has_body:
            errors["415"] = _error("The request body's media type is not supported.")
        if self.method != "GET" and not self._allows_anonymous():
            errors["409"] = _error("The write collided with a concurrent one; read and retry.")
        if self._versioned_write():
            errors["412"] = _error("If-Match does not match the object's current ETag.")
        if self._idempotent_create():
            errors["422"] = _error("The Idempotency-Key was used with a different request.")
        errors["503"] = _error("The database is unavailable; retry after Retry-After seconds.")
        return errors

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._versioned_write():
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag you read; a stale one gets 412. Omit it for an "
                    "unconditional write.",
                )
            )
        if self._idempotent_create():
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="1 to 255 characters; a repeat with the same key and body replays "
                    "the first answer instead of creating again.",
                )
            )
        return parameters

    def _versioned_write(self) -> bool:
        return getattr(self.view, "versioned", False) and self.method in ("PUT", "PATCH", "DELETE")

    def _idempotent_create(self) -> bool:
        return (
            getattr(self.view, "idempotent_create", False)
            and self.method == "POST"
            and getattr(self.view, "action", None) == "create"
        )

    def _is_paginated_list(self) -> bool:
        return (
            self.method == "GET"
            and self._is_list_view()
            and getattr(self.view, "pagination_class", None) is not None
        )

    def _allows_anonymous(self) -> bool:
        granted = self.view.get_permissions()
        return not granted or any(isinstance(p, permissions.AllowAny) for p in granted)

    def _checks_credentials(self) -> bool:
        """Open views that take a password or a token in the body (token, refresh, logout)."""
        return isinstance(self.view, TokenViewBase) or getattr(
            self.view, "checks_credentials", False
        )

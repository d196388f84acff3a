"""Every error an API client can meet comes back as JSON.

DRF already answers its own exceptions as JSON; this maps Django's ValidationError (raised by
`full_clean()` in the services) to a 400, and turns anything unexpected into a generic 500
that never carries a traceback but does carry the request id (X-Request-ID) to find the logged
traceback by. The `handler*` views cover what happens outside DRF views (an unknown path, a
server error in middleware, a body over the size limit) for paths under /api/.
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from cashman_site.errors import ApplicationError

logger = logging.getLogger("cashman.errors")

SERVER_ERROR_MESSAGE = "A server error occurred. It has been logged."
TOO_LARGE_MESSAGE = "The request body is larger than this server accepts."
URI_TOO_LONG_MESSAGE = "The query string is longer than this server accepts."
REQUEST_LINE_TOO_LONG_MESSAGE = "The request line is longer than this server accepts."
HEADER_TOO_LARGE_MESSAGE = "A request header is larger than this server accepts."


def _server_error_body(request: HttpRequest | None) -> dict[str, str | None]:
    """The generic message, and the id under which the traceback was logged."""
    return {"detail": SERVER_ERROR_MESSAGE, "request_id": getattr(request, "request_id", None)}


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = TOO_LARGE_MESSAGE
    default_code = "payload_too_large"


DATABASE_UNAVAILABLE = "The database is unavailable. Retry in a few seconds."
CONFLICT_MESSAGE = "The request conflicts with the current state of the data. Read it and retry."


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        errors = as_serializer_error(exc)
        # A model's clean() reports errors of no single field under Django's "__all__"; the API
        # calls them what DRF does.
        if NON_FIELD_ERRORS in errors:
            errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # Raised while DRF parses the body (too many fields or files): the client's fault.
        exc = exceptions.ParseError("Bad request.")
    elif isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, **exc.data}, status=exc.status_code)
    elif isinstance(exc, IntegrityError):
        # A constraint caught a write that validation could not (a race between two requests).
        logger.warning("Integrity error in %s: %s", context.get("view"), exc)
        return Response({"detail": CONFLICT_MESSAGE}, status=409)
    elif isinstance(exc, (OperationalError, InterfaceError)) or _is_connection_error(exc):
        logger.error("Database unavailable in %s: %s", context.get("view"), exc)
        return Response({"detail": DATABASE_UNAVAILABLE}, status=503, headers={"Retry-After": "5"})
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        request = context.get("request")
        response = Response(_server_error_body(getattr(request, "_request", request)), status=500)
    return response


def _is_connection_error(exc: Exception) -> bool:
    return isinstance(exc, DatabaseError) and "connection" in str(exc).lower()


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _refused(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """A request refused before any view ran: JSON under /api/, plain text elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def request_too_large(request: HttpRequest) -> HttpResponse:
    return _refused(request, 413, TOO_LARGE_MESSAGE)


def uri_too_long(request: HttpRequest) -> HttpResponse:
    return _refused(request, 414, URI_TOO_LONG_MESSAGE)


def request_line_too_long(request: HttpRequest) -> HttpResponse:
    return _refused(request, 414, REQUEST_LINE_TOO_LONG_MESSAGE)


def header_too_large(request: HttpRequest) -> HttpResponse:
    return _refused(request, 431, HEADER_TOO_LARGE_MESSAGE)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        # Django reports a body over DATA_UPLOAD_MAX_MEMORY_SIZE (a form with many fields, say) as
        # a 400; it is a 413.
        return request_too_large(request)
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"detail": "You do not have permission to perform this action."}, status=403
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


@csrf_exempt  # a PUT to a path that does not exist is a 404, not a CSRF failure
def api_not_found(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)
    return csrf.csrf_failure(request, reason=reason)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(_server_error_body(request), status=500)
    return defaults.server_error(request)

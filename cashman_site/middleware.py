"""Request-wide middleware: the request id and log line, the size limits, rate-limit headers and
the API's Cache-Control."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from cashman_site.exception_handler import (
    header_too_large,
    request_line_too_long,
    request_too_large,
    uri_too_long,
)
from cashman_site.throttling import rate_limits

logger = logging.getLogger("cashman.request")

REQUEST_ID_HEADER = "X-Request-ID"
IMPORTS_PATH = "/api/v1/imports/"
API_PATH = "/api/v1/"
PRIVATE_CACHE_CONTROL = "private, no-store"
# A proxy's id is kept when it looks like one; anything else (too long, odd characters that could
# forge log lines) is replaced by a fresh id.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

GetResponse = Callable[[HttpRequest], HttpResponse]


class RequestLogMiddleware:
    """Gives each request an id (X-Request-ID, or a new one), echoes it in the response, and
    writes one `cashman.request` log line: id, user id, method, path, status and duration.

    Never the query string, headers or body: they can hold passwords and tokens.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        response[REQUEST_ID_HEADER] = request_id
        user = getattr(request, "user", None)
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


class PrivateCacheControlMiddleware:
    """`Cache-Control: private, no-store` on every answer under /api/v1/ (JSON, CSV, streamed
    exports, errors) that does not set its own: they hold a user's ledger, which no browser or
    proxy cache should keep. The schema and docs pages, and static files, are left as they are.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(API_PATH) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response


class RequestSizeLimitMiddleware:
    """414 for a query string longer than CASHMAN_MAX_QUERY_BYTES, and 413 for a body whose
    Content-Length exceeds DATA_UPLOAD_MAX_MEMORY_SIZE, before either is parsed.

    File uploads to the import endpoint have their own, larger limit (CASHMAN_IMPORT_MAX_BYTES,
    plus room for the multipart envelope); the import checks the file's own size again.

    Also the limits gunicorn used to enforce, now answered here as JSON: 414 for a request target
    (path and query) longer than CASHMAN_MAX_REQUEST_LINE_BYTES, 431 for a header value longer
    than CASHMAN_MAX_HEADER_BYTES. The server (cashman_site/serve.py) refuses only what is far
    larger: a request line over 64 KiB, headers over CASHMAN_MAX_HEADERS_TOTAL_BYTES, or more than
    100 of them.
    """

    UPLOAD_ENVELOPE_BYTES = 64 * 1024

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def _limit(self, request: HttpRequest) -> int | None:
        if request.method == "POST" and request.path_info.startswith(IMPORTS_PATH):
            return settings.CASHMAN_IMPORT_MAX_BYTES + self.UPLOAD_ENVELOPE_BYTES
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        query = len(meta.get("QUERY_STRING", ""))
        if query > settings.CASHMAN_MAX_QUERY_BYTES:
            return uri_too_long(request)
        if len(meta.get("PATH_INFO", "")) + query > settings.CASHMAN_MAX_REQUEST_LINE_BYTES:
            return request_line_too_long(request)
        header_limit = settings.CASHMAN_MAX_HEADER_BYTES
        for key, value in meta.items():
            if key.startswith("HTTP_") and len(value) > header_limit:
                return header_too_large(request)
        limit = self._limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return request_too_large(request)
        return self.get_response(request)


class RateLimitHeadersMiddleware:
    """X-RateLimit-* from the tightest throttle that counted the request (see throttling.py)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        limits = rate_limits(request)
        if limits:
            tightest = min(limits, key=lambda limit: (limit.remaining, limit.limit))
            response["X-RateLimit-Limit"] = str(tightest.limit)
            response["X-RateLimit-Remaining"] = str(tightest.remaining)
            response["X-RateLimit-Reset"] = str(tightest.reset)
        return response

"""HTTP write-safety for the ledger's viewsets: ETag / If-Match, and Idempotency-Key on create."""

import re
from collections.abc import Callable
from typing import Any

from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ledger.exceptions import StaleVersion
from ledger.services import idempotency

_ENTITY_TAG = re.compile(r'^"(\d+)-(\d+)"$')


def etag_for(instance: Any) -> str:
    """A strong entity tag naming the object and its version: `"42-3"`."""
    return f'"{instance.pk}-{instance.version}"'


class VersionedObjectMixin:
    """Detail answers carry an ETag; PUT, PATCH and DELETE honour If-Match.

    Without If-Match a write is unconditional (last write wins). With it, a version that is not
    the current one gets 412 and nothing changes. GET with If-None-Match of the current ETag
    gets 304.
    """

    versioned = True  # read by the OpenAPI schema

    def if_match_version(self, instance: Any) -> int | None:
        """The version the client's If-Match asks for; None when it sets no condition."""
        header = self.request.headers.get("If-Match")  # type: ignore[attr-defined]
        if header is None or header.strip() == "*":
            return None
        versions = []
        for tag in header.split(","):
            match = _ENTITY_TAG.match(tag.strip())
            if match and int(match.group(1)) == instance.pk:
                versions.append(int(match.group(2)))
        if not versions:
            raise StaleVersion()
        # Any listed tag may match: ask the write for the one that matches the version read, if
        # listed; the write itself checks it again, atomically.
        return instance.version if instance.version in versions else versions[0]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        etag = etag_for(instance)
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response = Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]
        response["ETag"] = etag
        return response

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        instance = getattr(self, "written_instance", None)
        if instance is not None and response.status_code in (200, 201):
            response["ETag"] = etag_for(instance)
        return response


class IdempotentCreateMixin:
    """POST with an `Idempotency-Key` header creates at most once per user and key."""

    idempotent_create = True  # read by the OpenAPI schema

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.run_idempotently(
            request,
            lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs),  # type: ignore[misc]
        )

    def run_idempotently(self, request: Request, handler: Callable[[], Response]) -> Response:
        """Answer `handler()` once per Idempotency-Key (when the request carries one)."""
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return handler()
        if not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH:
            raise ValidationError(
                {idempotency.HEADER: f"Give 1 to {idempotency.MAX_KEY_LENGTH} characters."}
            )
        fingerprint = idempotency.request_fingerprint(
            method=request.method or "POST", path=request.path, body=request.data
        )
        return idempotency.idempotent_create(
            user=request.user, key=key, fingerprint=fingerprint, handler=handler
        )

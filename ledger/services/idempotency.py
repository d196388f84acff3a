"""Idempotent creates, with the semantics of Stripe's Idempotency-Key: the records of keys used.

The first request with a key is processed and its status and body are stored, in the same
database transaction as the row it created. A repeat with the same key and the same request gets
the stored answer back and creates nothing; the same key with a different request is refused
(422). Two requests racing with one key cannot both insert the key's row: the database's unique
constraint makes the second wait for the first to commit, then answers it from the stored row.
A request that fails (any error status) stores nothing, so the client may retry with the key.
"""

import datetime
import hashlib
import json
from collections.abc import Callable

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.http import QueryDict
from django.utils import timezone
from rest_framework.response import Response

from accounts.models import User
from ledger.exceptions import IdempotencyKeyInFlight, IdempotencyKeyReused
from ledger.models import IdempotencyKey
from ledger.services.unit_of_work import unit_of_work

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def request_fingerprint(*, method: str, path: str, body: object) -> str:
    canonical = json.dumps(_plain(body), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _plain(body: object) -> object:
    """The body as plain JSON values; an uploaded file stands for the hash of its content."""
    if isinstance(body, QueryDict):
        return {key: [_plain(v) for v in body.getlist(key)] for key in body}
    if isinstance(body, dict):
        return {key: _plain(value) for key, value in body.items()}
    if isinstance(body, list):
        return [_plain(value) for value in body]
    if isinstance(body, UploadedFile):
        digest = hashlib.sha256()
        for chunk in body.chunks():
            digest.update(chunk)
        body.seek(0)
        return f"file:{digest.hexdigest()}"
    return body


def idempotent_create(
    *, user: User, key: str, fingerprint: str, handler: Callable[[], Response]
) -> Response:
    """Run `handler` once per (user, key); replay its stored answer for repeats. The key's
    record and what the handler writes are one unit of work."""
    with unit_of_work():
        try:
            with db_transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=fingerprint, status_code=0, response_body={}
                )
        except IntegrityError:
            return _replay(user=user, key=key, fingerprint=fingerprint)
        response = handler()
        if response.status_code >= 400:
            # Nothing was created: forget the key so that a corrected retry can use it.
            db_transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.response_body = response.data
        record.save(update_fields=["status_code", "response_body"])
    return response


def _replay(*, user: User, key: str, fingerprint: str) -> Response:
    record = IdempotencyKey.objects.filter(user=user, key=key).first()
    if record is None or record.status_code == 0:
        raise IdempotencyKeyInFlight()
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return Response(
        record.response_body, status=record.status_code, headers={REPLAYED_HEADER: "true"}
    )


def idempotency_keys_purge(*, older_than: datetime.timedelta) -> int:
    """Delete stored answers older than `older_than`; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted

"""What the ledger's services raise when a write cannot go ahead; the API maps them to statuses
(cashman_site.exception_handler knows their base, ApplicationError)."""

from cashman_site.errors import ApplicationError


class LedgerError(ApplicationError):
    """Base class of the ledger's errors: `message` is safe to show to the client."""


class StaleVersion(LedgerError):
    """If-Match named a version that is no longer the current one."""

    status_code = 412
    default_message = (
        "The object has changed since you read it (If-Match does not match its ETag). "
        "Read it again and retry."
    )


class IdempotencyKeyReused(LedgerError):
    """An Idempotency-Key came back with a different request."""

    status_code = 422
    default_message = (
        "This Idempotency-Key was already used with a different request. "
        "Use a new key for a new request."
    )


class IdempotencyKeyInFlight(LedgerError):
    """The first request with this key has not finished yet."""

    status_code = 409
    default_message = "A request with this Idempotency-Key is still being processed. Retry shortly."


class Conflict(LedgerError):
    """The write would break a rule of the ledger's current state (the last owner leaving, a
    reconciled transaction changed, an account with transactions deleted): `message` says which."""

    status_code = 409
    default_message = "The request conflicts with the current state of the ledger."

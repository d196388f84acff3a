"""What the ledger's services raise when a write cannot go ahead; the API maps them to statuses."""


class LedgerError(Exception):
    """Base class: `message` is safe to show to the client."""

    status_code = 400
    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


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

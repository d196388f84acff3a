"""The one error an app raises for a request that cannot be carried out, whatever the app: the
exception handler answers it with its status and message, so the plumbing never names an app."""


class ApplicationError(Exception):
    """Base class of the apps' domain errors: `message` is safe to show to the client."""

    status_code = 400
    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None, **data: object) -> None:
        self.message = message or self.default_message
        #: More of the answer's body, beside `detail` (the difference a reconciliation missed by).
        self.data = data
        super().__init__(self.message)

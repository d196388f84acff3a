"""A service this process found not answering, and left alone for a few seconds (a circuit
breaker): a Redis or a broker that hangs then costs one request its timeout, not every request."""

import logging
import threading
import time

from cashman_site import process_state

logger = logging.getLogger("cashman.outage")

#: How long a process leaves a service alone after it failed to answer.
RETRY_SECONDS = 5.0


class Outage:
    """When this process last found `service` not answering, and until when it skips it."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._lock = threading.Lock()
        self.until = 0.0
        self.error = ""
        process_state.register(f"outage: {service}", self.clear)  # a new worker tries afresh

    def active(self) -> bool:
        return time.monotonic() < self.until

    def trip(self, error: Exception) -> None:
        with self._lock:
            if not self.active():
                logger.warning("%s does not answer, skipped for now: %s", self.service, error)
            self.until = time.monotonic() + RETRY_SECONDS
            self.error = str(error)

    def clear(self) -> None:
        with self._lock:
            self.until, self.error = 0.0, ""

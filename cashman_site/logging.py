"""Log records as one JSON object a line, for a log collector to parse."""

import json
import logging
from datetime import UTC, datetime

# Extra fields a record may carry (see cashman_site.middleware.RequestLogMiddleware). Only these
# are written: whatever else a caller attaches (a request object, a body) never reaches the log.
FIELDS = ("request_id", "user_id", "method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,  # which server worker
            "message": record.getMessage(),
        }
        for field in FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

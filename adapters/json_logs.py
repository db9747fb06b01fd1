"""Log lines as JSON objects, one a line, for the API and the streaming job alike.

Each line has timestamp (UTC, ISO 8601), level, logger, message and request_id: the id of the
API request that brought the photo in, so one grep follows a photo from the API's log into the
stream's (docs/operations.md). Records without one carry null.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """One JSON object per record; an exception's traceback goes into `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_as_json(logger: logging.Logger, level: int = logging.INFO) -> None:
    """Send `logger`'s records at `level` and above to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)

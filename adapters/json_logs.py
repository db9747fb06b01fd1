"""Log lines as JSON objects, one a line, for the API and the streaming job alike.

Each line has timestamp (UTC, ISO 8601), level, logger, message and request_id: the id of the
API request that brought the photo in, so one grep follows a photo from the API's log into the
stream's (docs/operations.md). Records without one carry null. A record logged with
`extra={"facts": {...}}` carries those keys too (image_id, device_id, ...), for filters like jq's.
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
        facts = getattr(record, "facts", None) or {}
        line.update({key: value for key, value in facts.items() if key not in line})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# Libraries whose warnings narrate what our code records as a fact: exifread warns "PNG file
# does not have exif data." for every photo without EXIF, which preprocessing/exif.py records as
# empty facts, and warns of each damaged tag, which it records as None.
LIBRARY_LEVELS = {"exifread": logging.ERROR}


def log_process_as_json(own: tuple[str, ...] = ("streaming",), level: int = logging.INFO) -> None:
    """Every record of this process as a JSON line on stderr, none as bare text: the `own`
    loggers' from `level`, other libraries' from WARNING (those of LIBRARY_LEVELS from theirs).

    Called once in each process: the stream's driver, and its Spark Python workers' daemon
    (adapters/spark_daemon.py), whose forked workers inherit it.
    """
    root = logging.getLogger()
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in own:
        logging.getLogger(name).setLevel(level)
    quiet_libraries()


def quiet_libraries() -> None:
    """Give the loggers of LIBRARY_LEVELS their levels, in any process that reads photos."""
    for name, library_level in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(library_level)


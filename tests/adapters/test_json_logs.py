"""Log lines are JSON objects with the fields an operator filters on, request_id among them."""

from __future__ import annotations

import json
import logging
import sys

from adapters.json_logs import JsonFormatter


def record(message: str, *args, **extra) -> logging.LogRecord:
    made = logging.LogRecord("streaming.sink", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_line_has_timestamp_level_logger_message_and_request_id():
    line = json.loads(JsonFormatter().format(
        record("dead letter %s: %s", "ab12", "unsupported_format", request_id="phone-7-0001")
    ))

    assert line == {
        "timestamp": line["timestamp"],
        "level": "WARNING",
        "logger": "streaming.sink",
        "message": "dead letter ab12: unsupported_format",
        "request_id": "phone-7-0001",
    }
    assert line["timestamp"].endswith("+00:00")


def test_a_line_without_a_request_has_a_null_id_and_stays_one_line_with_a_traceback():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        failed = record("it failed")
        failed.exc_info = sys.exc_info()

    text = JsonFormatter().format(failed)

    assert "\n" not in text
    line = json.loads(text)
    assert line["request_id"] is None
    assert "ValueError: boom" in line["exception"]


def test_facts_given_with_a_record_are_keys_of_its_line_but_never_replace_the_standard_ones():
    line = json.loads(JsonFormatter().format(
        record("accepted ab12", facts={"image_id": "ab12", "offset": 7, "level": "x"})
    ))

    assert line["image_id"] == "ab12" and line["offset"] == 7
    assert line["level"] == "WARNING"

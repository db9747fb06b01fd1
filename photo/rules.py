"""The rules of what a sender tells about a photo: each takes the text that was sent and gives
back its value, or raises InvalidFact with a code and a sentence.

One set of rules for both doors (photo/facts.py applies them): the API checks its form fields
with them, so a client hears about a bad field at once, and the stream checks the Kafka headers
with them, so a message that bypassed the API cannot carry a value the stores would refuse.
"""

from __future__ import annotations

import re
from datetime import datetime

from preprocessing.safe_values import EARLIEST_YEAR, LATEST_YEAR, capture_times

LABEL = re.compile(r"[a-z0-9_-]{1,64}")
# Plain decimal degrees: an optional sign, up to 3 digits, up to 12 decimals. No exponents,
# underscores, spaces, "nan" or "inf", which float() would take.
DEGREES = re.compile(r"[+-]?[0-9]{1,3}(\.[0-9]{1,12})?")
MAX_DEVICE_ID_CHARS = 128
MAX_CAPTURED_AT_CHARS = 64
# The API's request ids (ingest_api/ops/request_ids.py), carried to the stream's log lines.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class InvalidFact(ValueError):
    """A fact that breaks its rule; `code` names it for machines, str(self) for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def optional(rule, text: str | None):
    """`rule(text)`, or None when nothing was sent."""
    return None if text is None else rule(text)


def label(text: str) -> str:
    if not LABEL.fullmatch(text):
        raise InvalidFact(
            "invalid_label", "label must be 1 to 64 characters among a-z, 0-9, '_' and '-'"
        )
    return text


def located(lat: str | None, lon: str | None) -> None:
    """A position is both coordinates or neither."""
    if (lat is None) != (lon is None):
        raise InvalidFact("invalid_location", "send lat and lon together, or neither")


def latitude(text: str) -> float:
    return _degrees("lat", text, 90)


def longitude(text: str) -> float:
    return _degrees("lon", text, 180)


def _degrees(name: str, text: str, bound: int) -> float:
    """Plain decimal degrees within ±bound."""
    if not DEGREES.fullmatch(text) or not -bound <= float(text) <= bound:
        raise InvalidFact(
            "invalid_location",
            f"{name} must be decimal degrees between -{bound} and {bound}, like 45.07",
        )
    return float(text)


def captured_at(text: str) -> str:
    """An ISO 8601 time, given back as YYYY-MM-DDTHH:MM:SS with its offset if it had one ("Z"
    for UTC).

    The offset is kept, not folded into UTC: with it the record has both the moment and the
    local time the photo was taken at (capture_times_of).
    """
    problem = InvalidFact(
        "invalid_captured_at",
        "captured_at must be an ISO 8601 time between the years "
        f"{EARLIEST_YEAR} and {LATEST_YEAR - 1}, e.g. 2024-06-01T12:30:00+02:00",
    )
    if len(text) > MAX_CAPTURED_AT_CHARS:
        raise problem
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise problem from None
    utc, local = capture_times(moment)
    if local is None or (moment.tzinfo is not None and utc is None):
        raise problem
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def capture_times_of(text: str | None) -> tuple[str | None, str | None]:
    """(captured_at, captured_at_local) of a time the captured_at rule gave back (or of None):
    the moment in UTC only when the sender gave an offset, and the local time."""
    if text is None:
        return None, None
    return capture_times(datetime.fromisoformat(text))


def device_id(text: str) -> str:
    if not (0 < len(text) <= MAX_DEVICE_ID_CHARS and text.isprintable()):
        raise InvalidFact(
            "invalid_device_id",
            f"device_id must be 1 to {MAX_DEVICE_ID_CHARS} printable characters",
        )
    return text


def request_id(text: str) -> str:
    if not REQUEST_ID.fullmatch(text):
        raise InvalidFact(
            "invalid_request_id",
            "request_id must be 8 to 64 characters among A-Z, a-z, 0-9, '.', '_' and '-'",
        )
    return text


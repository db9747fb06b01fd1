"""Values every store accepts: times in UTC within a sane range, bounded text, finite numbers.

A photo's facts come from its EXIF or from its sender, and either can hold anything: a capture
time in year 0 or with a +19:00 offset, a camera make of 40,000 characters, an altitude of 1e300.
Elasticsearch refuses such a document (and with it the batch it came in), so facts are made
safe here, where they are produced, and an unusable one becomes None rather than a refusal.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

# Capture times outside these years are a wrong clock or a forged tag, not a field photo.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100

# Metres: below the deepest trench or above where planes fly is not a field photo's altitude.
ALTITUDE_RANGE = (-11_000.0, 100_000.0)

# Characters of free text (camera make and model) kept from a file.
MAX_TEXT_CHARS = 128


def iso_time(moment: datetime) -> str | None:
    """ISO 8601 in UTC ("...Z") for an aware time, as given for a naive one; None out of range."""
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            return None
    if not EARLIEST_YEAR <= moment.year < LATEST_YEAR:
        return None
    text = moment.replace(tzinfo=None).isoformat(timespec="seconds")
    return f"{text}Z" if moment.tzinfo is not None else text


def capture_times(moment: datetime) -> tuple[str | None, str | None]:
    """(captured_at, captured_at_local) of a capture time, each None when unknown or out of range.

    captured_at is the moment in UTC ("...Z"), known only when the time has an offset;
    captured_at_local is the wall-clock time where the photo was taken, without an offset. A
    naive time (EXIF before 2.31 has no offset) gives only the local one: its zone is unknown,
    and passing it off as UTC would put it hours off.
    """
    local = iso_time(moment.replace(tzinfo=None))
    if local is None or moment.tzinfo is None:
        return None, local
    return iso_time(moment), local


def bounded_text(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Printable characters only, at most `limit` of them, trimmed; None when nothing is left."""
    if text is None:
        return None
    kept = "".join(ch for ch in text if ch.isprintable()).strip()[:limit].strip()
    return kept or None


def number_in_range(value: float | None, low: float, high: float) -> float | None:
    """The value if it is a finite number within [low, high], else None."""
    if value is None or not math.isfinite(value) or not low <= value <= high:
        return None
    return float(value)

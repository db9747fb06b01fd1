"""EXIF facts read with exifread: GPS, capture time, camera. Damaged tags give None, not errors.

A block exifread cannot walk at all is a fact of its own: `error` names it, and the record keeps
it (exif_error), so a photo whose GPS was lost to damage is told from one that had none.
"""

from __future__ import annotations

import contextlib
import io
import math
import struct
from dataclasses import dataclass
from datetime import datetime

import exifread
import pillow_heif
from exifread.core.exceptions import ExifError
from PIL import Image

from preprocessing.safe_values import (
    ALTITUDE_RANGE,
    bounded_text,
    capture_times,
    number_in_range,
)

pillow_heif.register_heif_opener()

# ExifFacts.error: the file has an EXIF block that exifread cannot walk.
DAMAGED = "damaged"

TIFF_HEADERS = (b"II*\x00", b"MM\x00*")  # how an EXIF block starts, little- or big-endian

# What exifread raises on a damaged block (found by feeding it damaged photos): offsets and counts
# past the data (IndexError, EOFError, struct.error), values it cannot unpack or decode
# (ValueError, UnicodeDecodeError, KeyError), its own ExifError; TypeError on garbage values.
_DAMAGE = (IndexError, EOFError, struct.error, ValueError, KeyError, TypeError, ExifError)
# exifread's HEIC reader asserts an Exif item layout that libheif does not write, and leaves
# some box sizes unimplemented: valid files, whose block Pillow's reader finds instead.
_UNREAD_CONTAINER = (AssertionError, NotImplementedError)


@dataclass(frozen=True)
class ExifFacts:
    """What the photo's EXIF says about where, when and with what it was taken."""

    lat: float | None = None
    lon: float | None = None
    altitude: float | None = None
    captured_at: str | None = None  # in UTC, when the file gives the offset
    captured_at_local: str | None = None  # the camera's clock, without an offset
    camera_make: str | None = None
    camera_model: str | None = None
    error: str | None = None  # DAMAGED when the file's EXIF block cannot be read


def read_exif(data: bytes) -> ExifFacts:
    """Read EXIF from JPEG, PNG, WebP, TIFF or HEIC bytes; a file without EXIF gives empty facts.

    A block that cannot be read gives empty facts with error DAMAGED.
    """
    tags, error = _tags(data)
    if not tags:
        tags, block_error = _block_tags(_exif_block(data))
        error = None if tags else error or block_error
    lat = _coordinate(tags, "GPS GPSLatitude", "GPS GPSLatitudeRef", "S", 90.0)
    lon = _coordinate(tags, "GPS GPSLongitude", "GPS GPSLongitudeRef", "W", 180.0)
    if lat is None or lon is None:
        lat = lon = None
    captured_at, captured_at_local = _capture_times(tags)
    return ExifFacts(
        lat=lat,
        lon=lon,
        altitude=_altitude(tags),
        captured_at=captured_at,
        captured_at_local=captured_at_local,
        camera_make=bounded_text(_text(tags, "Image Make")),
        camera_model=bounded_text(_text(tags, "Image Model")),
        error=error,
    )


def _tags(data: bytes) -> tuple[dict, str | None]:
    """exifread's tags of a file or bare block, and DAMAGED where it cannot walk them."""
    if not data:
        return {}, None
    try:
        return exifread.process_file(io.BytesIO(data), details=False, extract_thumbnail=False), None
    except _UNREAD_CONTAINER:
        return {}, None
    except _DAMAGE:
        return {}, DAMAGED


def _block_tags(block: bytes) -> tuple[dict, str | None]:
    """_tags of a bare block; DAMAGED without a TIFF header too, where exifread finds no EXIF."""
    if block and not block.startswith(TIFF_HEADERS):
        return {}, DAMAGED
    return _tags(block)


def _exif_block(data: bytes) -> bytes:
    """The file's EXIF as a bare TIFF block, found by Pillow's readers.

    exifread cannot find the EXIF of some valid containers (a HEIC whose Exif item libheif wrote,
    a WebP EXIF chunk without an "Exif" preamble); it parses the bare block they hold.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            block = image.info.get("exif") or b""
    except (OSError, Image.DecompressionBombError):  # not an image Pillow can open: no block
        return b""
    return block[6:] if block.startswith(b"Exif\x00\x00") else block


def _number(value) -> float | None:
    """A finite float from an exifread Ratio or int; None for a zero denominator or garbage."""
    try:
        denominator = getattr(value, "den", getattr(value, "denominator", 1))
        numerator = getattr(value, "num", getattr(value, "numerator", value))
        result = float(numerator) / float(denominator)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def _coordinate(tags, name: str, ref_name: str, negative_ref: str, limit: float) -> float | None:
    """Signed decimal degrees from degrees/minutes/seconds and an N/S or E/W reference."""
    tag, ref = tags.get(name), tags.get(ref_name)
    if tag is None or ref is None:
        return None
    parts = [_number(value) for value in tag.values]
    if not parts or len(parts) > 3 or any(part is None or part < 0 for part in parts):
        return None
    degrees = sum(part / 60**i for i, part in enumerate(parts))
    reference = str(ref.values).strip().upper()
    if reference not in ("N", "S", "E", "W"):
        return None
    signed = -degrees if reference == negative_ref else degrees
    return signed if abs(signed) <= limit else None


def _altitude(tags) -> float | None:
    """Metres above sea level; GPSAltitudeRef 1 means below."""
    tag = tags.get("GPS GPSAltitude")
    if tag is None or not tag.values:
        return None
    metres = _number(tag.values[0])
    if metres is None:
        return None
    ref = tags.get("GPS GPSAltitudeRef")
    below = ref is not None and list(ref.values)[:1] == [1]
    return number_in_range(-metres if below else metres, *ALTITUDE_RANGE)


def _capture_times(tags) -> tuple[str | None, str | None]:
    """DateTimeOriginal (else DateTime) as (UTC, local) ISO 8601 (safe_values.capture_times).

    The UTC time is known only when the file gives its offset (OffsetTimeOriginal, OffsetTime,
    EXIF 2.31); otherwise only the camera's clock is.
    """
    for name, offset_name in (
        ("EXIF DateTimeOriginal", "EXIF OffsetTimeOriginal"),
        ("Image DateTime", "EXIF OffsetTime"),
    ):
        text = _text(tags, name)
        if text is None:
            continue
        try:
            moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue
        offset = _text(tags, offset_name)
        if offset:
            with contextlib.suppress(ValueError):  # unreadable: the zone stays unknown
                moment = datetime.fromisoformat(moment.isoformat() + offset)
        return capture_times(moment)
    return None, None


def _text(tags, name: str) -> str | None:
    tag = tags.get(name)
    if tag is None:
        return None
    text = str(tag.values).replace("\x00", "").strip()
    return text or None

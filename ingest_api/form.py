"""The upload form: one photo in the field `file`, and optional facts the phone adds to it.

Every optional field that is sent must be valid; nothing is silently dropped. The facts are
returned with the header names of adapters/kafka_messages.py. The device is not a form field:
it comes from the request's token (auth.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from flask import Request

from ingest_api.errors import ApiError, PayloadTooLarge

FILE_FIELD = "file"
LABEL = re.compile(r"[a-z0-9_-]{1,64}")
MAX_CAPTURED_AT_CHARS = 64
MAX_FILENAME_CHARS = 255


@dataclass(frozen=True)
class Upload:
    """The photo's bytes and the facts to send with it (None where the client sent nothing)."""

    data: bytes
    facts: dict[str, str | None]


def parse_upload(request: Request, max_upload_bytes: int) -> Upload:
    """Read and check the multipart form of a POST /post_image; raise ApiError."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(
            f"send multipart/form-data with the photo in the field {FILE_FIELD!r}, "
            f"not {request.mimetype or 'a body without a content type'}",
            "not_multipart",
        )
    files = request.files.getlist(FILE_FIELD)
    if not files:
        sent = sorted(set(request.files) | set(request.form))
        raise ApiError(
            f"no file in the field {FILE_FIELD!r}; the form has {sent or 'no fields'}",
            "missing_file",
        )
    if len(files) > 1:
        raise ApiError(f"send one file per request, not {len(files)}", "too_many_files")
    data = files[0].stream.read(max_upload_bytes + 1)
    if len(data) > max_upload_bytes:
        raise PayloadTooLarge(f"the file is larger than the limit of {max_upload_bytes:,} bytes")
    form = request.form
    lat, lon = _location(form.get("lat"), form.get("lon"))
    return Upload(
        data=data,
        facts={
            "label": _label(form.get("label")),
            "client_lat": lat,
            "client_lon": lon,
            "client_captured_at": _captured_at(form.get("captured_at")),
            "filename": _filename(files[0].filename),
        },
    )


def _label(value: str | None) -> str | None:
    if value is not None and not LABEL.fullmatch(value):
        raise ApiError(
            "label must be 1 to 64 characters among a-z, 0-9, '_' and '-'", "invalid_label"
        )
    return value


def _location(lat: str | None, lon: str | None) -> tuple[str | None, str | None]:
    if lat is None and lon is None:
        return None, None
    if lat is None or lon is None:
        raise ApiError("send lat and lon together, or neither", "invalid_location")
    return _degrees("lat", lat, 90), _degrees("lon", lon, 180)


def _degrees(name: str, value: str, bound: float) -> str:
    try:
        degrees = float(value)
    except ValueError:
        degrees = math.nan
    if not -bound <= degrees <= bound:  # also refuses nan and inf
        raise ApiError(
            f"{name} must be a number of degrees between -{bound} and {bound}", "invalid_location"
        )
    return repr(degrees)


def _captured_at(value: str | None) -> str | None:
    """The time in ISO 8601, normalised (e.g. 20240601T1200Z -> 2024-06-01T12:00:00+00:00)."""
    if value is None:
        return None
    try:
        if len(value) > MAX_CAPTURED_AT_CHARS:
            raise ValueError(value)
        return datetime.fromisoformat(value).isoformat()
    except ValueError as error:
        raise ApiError(
            "captured_at must be an ISO 8601 time, e.g. 2024-06-01T12:30:00+02:00",
            "invalid_captured_at",
        ) from error


def _filename(value: str | None) -> str | None:
    """The client's file name, for people reading the logs: printable, without a path."""
    if not value:
        return None
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:MAX_FILENAME_CHARS]
    return name or None

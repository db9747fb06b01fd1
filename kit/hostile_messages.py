"""Hostile Kafka messages, as a producer that bypasses the API could write them, and good photos.

Shared by tests/streaming/test_hostile_messages.py and bench/hostile_drill.py.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import piexif

from kit.field_messages import Message
from kit.photos import encode, exif_bytes, gps_ifd, photo_like
from photo.messages import MAX_HEADER_BYTES, encode_headers

FACTS = {"label": "maize", "device_id": "phone-1"}


def photo(seed: int, headers=None, exif: bytes | None = None, **fields) -> Message:
    """A small JPEG (distinct per seed) with the given headers, or the API's usual ones."""
    options = {"exif": exif} if exif else {}
    jpeg = encode(photo_like(320, 240, seed=seed), "jpeg", quality=85, **options)
    headers = encode_headers(FACTS) if headers is None else headers
    return Message(f"hostile-{seed}".encode(), jpeg, headers, seed % 3, **fields)


class NotUtf8(str):
    """A header name that kafka-python's producer writes as bytes that are not UTF-8."""

    def encode(self, *args, **kwargs) -> bytes:
        return b"\xff\xfe" + super().encode(*args, **kwargs)


def unparsable(seed: int) -> Message:
    """A good photo whose record kafka-python's consumer cannot parse: one header name is not
    UTF-8 (Java's client would read it with replacement characters)."""
    return photo(seed, headers=[*encode_headers(FACTS), (NotUtf8("note"), b"x")])


def hostile_exif() -> dict[str, Message]:
    """Photos whose EXIF once made Elasticsearch refuse their document: processed now."""
    huge_altitude = {**gps_ifd(-1.28, 36.8), piexif.GPSIFD.GPSAltitude: (4_000_000_000, 1)}
    return {
        "make_of_40000_characters": photo(100, exif=exif_bytes(make="A" * 40_000)),
        "offset_of_19_hours": photo(
            101, exif=exif_bytes(taken="2024:03:05 14:07:09", offset="+19:00")
        ),
        "year_1": photo(102, exif=exif_bytes(taken="0001:01:01 00:00:00")),
        "altitude_of_4e9_metres": photo(103, exif=exif_bytes(gps=huge_altitude)),
    }


def at_the_limits() -> list[Message]:
    """Every header at its limit, a record time no calendar holds, no key: all valid photos."""
    limits = {"label": "x" * 64, "device_id": "d" * 128, "client_lat": "-90",
              "client_lon": "180.000000000000", "client_captured_at": "2099-12-31T23:59:59Z"}
    return [
        photo(110, encode_headers(limits)),
        photo(111, timestamp_ms=2**62),
        replace(photo(112), key=None),
        photo(113, headers=[]),
    ]


def bad_messages(seed: int = 7, first: int = 200) -> list[tuple[Message, str]]:
    """(message, the reason its dead letter must give); other seeds and firsts, other bytes."""
    rng = np.random.default_rng(seed)
    random_bytes = [rng.bytes(int(size)) for size in (1, 100, 5_000, 5_000_000)]
    past_limits = [
        [("label", b"x" * 65)],
        [("device_id", b"d" * 129)],
        [("client_lat", b"90.5"), ("client_lon", b"7")],
        [("client_lat", b"45")],
        [("client_lat", b"1e-400"), ("client_lon", b"7")],
        [("client_captured_at", b"2100-01-01T00:00:00Z")],
        [("label", b"\xff\xfe\xfd")],
        [("label", b"maize"), ("label", b"wheat")],
        [("x-padding", b"p" * MAX_HEADER_BYTES)],
    ]
    return [
        *[(Message(b"r", data, [], n % 3), "unsupported_format")
          for n, data in enumerate(random_bytes)],
        (Message(b"tombstone", None, [], 0), "unsupported_format"),
        (Message(b"j", b"\xff\xd8\xff" + rng.bytes(3_000), [], 1), "corrupt"),
        (Message(b"p", b"\x89PNG\r\n\x1a\n" + rng.bytes(3_000), [], 2), "corrupt"),
        *[(photo(first + n, headers), "invalid_message") for n, headers in enumerate(past_limits)],
    ]

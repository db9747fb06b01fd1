"""The Kafka message of one upload: key = image id, value = the original bytes, headers = facts.

The API encodes and the streaming job decodes with these two functions, so the two sides
cannot drift apart. The stream cannot trust that a message came through the API, so decoding
checks every header with the API's own rules (dataset/rules.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from preprocessing import client_facts as rules
from preprocessing.upload import Upload

# Header names, in the order the API writes them.
HEADER_FIELDS = ("label", "device_id", "client_lat", "client_lon", "client_captured_at", "filename",
                 "request_id")

# The API's headers take a few hundred bytes; more is not a message of ours.
MAX_HEADER_BYTES = 16 * 1024

# The one header of the row that stands for a record the Kafka reader could not parse (a header
# key that is not UTF-8, a broken record): its value says why (streaming/kafka_source.py).
UNREADABLE_HEADER = "kafka_python.unreadable"


class InvalidMessage(ValueError):
    """A message the API would never have written: its photo becomes a dead letter."""


def encode_headers(facts: dict) -> list[tuple[str, bytes]]:
    """Kafka headers for the non-empty fields of `facts` (keys from HEADER_FIELDS)."""
    return [
        (name, str(facts[name]).encode())
        for name in HEADER_FIELDS
        if facts.get(name) is not None
    ]


def upload_from_message(
    value: bytes, headers: Iterable[tuple[str, bytes | None]] | None, source: str
) -> Upload:
    """The Upload a message carries; unknown headers are ignored. Raises InvalidMessage."""
    headers = list(headers or ())
    if headers and headers[0][0] == UNREADABLE_HEADER:
        raise InvalidMessage(f"the Kafka record could not be read: {headers[0][1].decode()}")
    facts = _known_headers(headers)
    try:
        lat, lon = rules.location(facts.get("client_lat"), facts.get("client_lon"))
        captured_at = facts.get("client_captured_at")
        return Upload(
            data=value,
            source=source,
            label=rules.optional(rules.label, facts.get("label")),
            device_id=rules.optional(rules.device_id, facts.get("device_id")),
            client_lat=lat,
            client_lon=lon,
            client_captured_at=rules.optional(rules.captured_at, captured_at),
            request_id=rules.optional(rules.request_id, facts.get("request_id")),
        )
    except rules.InvalidFact as error:
        raise InvalidMessage(f"header {error.code.removeprefix('invalid_')}: {error}") from None


def unreadable_record_headers(reason: str) -> list[tuple[str, bytes]]:
    """The headers of the row standing for a record the reader could not parse."""
    return [(UNREADABLE_HEADER, reason.encode())]


def _known_headers(headers: list[tuple[str, bytes | None]]) -> dict[str, str]:
    """Our headers as text: each at most once, UTF-8, within the size limit in all."""
    size = sum(len(name or "") + len(raw or b"") for name, raw in headers)
    if size > MAX_HEADER_BYTES:
        raise InvalidMessage(f"the headers take {size:,} bytes, over {MAX_HEADER_BYTES:,}")
    facts: dict[str, str] = {}
    for name, raw in headers:
        if name not in HEADER_FIELDS:
            continue
        if name in facts:
            raise InvalidMessage(f"header {name} appears more than once")
        try:
            facts[name] = (raw or b"").decode()
        except UnicodeDecodeError:
            raise InvalidMessage(f"header {name} is not UTF-8 text") from None
    return facts

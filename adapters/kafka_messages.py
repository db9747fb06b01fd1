"""The Kafka message of one upload: key = image id, value = the original bytes, headers = facts.

The API encodes and the streaming job decodes with these two functions, so the two sides
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from dataset.records import Upload

# Header names, in the order the API writes them.
HEADER_FIELDS = ("label", "device_id", "client_lat", "client_lon", "client_captured_at", "filename")


def encode_headers(facts: dict) -> list[tuple[str, bytes]]:
    """Kafka headers for the non-empty fields of `facts` (keys from HEADER_FIELDS)."""
    return [
        (name, str(facts[name]).encode())
        for name in HEADER_FIELDS
        if facts.get(name) is not None
    ]


def upload_from_message(
    value: bytes, headers: Iterable[tuple[str, bytes]] | None, source: str
) -> Upload:
    """The Upload a message carries; unknown headers are ignored, bad numbers become None."""
    facts = {name: raw.decode(errors="replace") for name, raw in headers or () if raw is not None}
    return Upload(
        data=value,
        source=source,
        label=facts.get("label"),
        device_id=facts.get("device_id"),
        client_lat=_float(facts.get("client_lat")),
        client_lon=_float(facts.get("client_lon")),
        client_captured_at=facts.get("client_captured_at"),
    )


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None

"""The Kafka message of one upload: key = image id, value = the original bytes, headers = facts.

The API encodes and the streaming job decodes with these two functions, so the two sides
cannot drift apart. A header is a fact of photo/facts.py, under its name. The stream cannot
trust that a message came through the API, so decoding checks every header with the rules the
API checks its form with (photo/rules.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from photo.facts import FACT_NAMES, fact_texts, read_facts
from photo.rules import InvalidFact
from photo.upload import Upload

# The API's headers take a few hundred bytes; more is not a message of ours.
MAX_HEADER_BYTES = 16 * 1024

# The one header of the row that stands for a record the Kafka reader could not parse (a header
# key that is not UTF-8, a broken record): its value says why (streaming/kafka_source.py).
UNREADABLE_HEADER = "kafka_python.unreadable"


class InvalidMessage(ValueError):
    """A message the API would never have written: its photo becomes a dead letter."""


def encode_headers(facts: Mapping[str, object]) -> list[tuple[str, bytes]]:
    """The Kafka headers of an upload's facts (Upload.facts()): one per fact that was told."""
    return [(name, text.encode()) for name, text in fact_texts(facts).items()]


def upload_from_message(
    value: bytes, headers: Iterable[tuple[str, bytes | None]] | None, source: str
) -> Upload:
    """The Upload a message carries; unknown headers are ignored. Raises InvalidMessage."""
    headers = list(headers or ())
    if headers and headers[0][0] == UNREADABLE_HEADER:
        raise InvalidMessage(f"the Kafka record could not be read: {headers[0][1].decode()}")
    try:
        return Upload(data=value, source=source, **read_facts(_known_headers(headers)))
    except InvalidFact as error:
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
        if name not in FACT_NAMES:
            continue
        if name in facts:
            raise InvalidMessage(f"header {name} appears more than once")
        try:
            facts[name] = (raw or b"").decode()
        except UnicodeDecodeError:
            raise InvalidMessage(f"header {name} is not UTF-8 text") from None
    return facts

"""What a sender tells about a photo, in one table: FACTS.

Each fact is named once, here. The upload form's fields and their OpenAPI properties
(ingest_api/upload/form.py, ingest_api/contract/api_schemas.py), the Kafka headers that carry the
facts to the stream (photo/messages.py), and the image record's fields for the facts it keeps as
sent (dataset/image_record.py) all derive from FACTS. Adding a fact is a line here, an attribute
of Upload (photo/upload.py), and the client that sends it (ingest_api/static/upload/upload.js).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from photo import rules


@dataclass(frozen=True)
class Fact:
    """One fact a sender tells: its name (Upload's attribute and the Kafka header), its rule,
    and what it is, in words for the OpenAPI contract and the image record."""

    name: str
    rule: Callable[[str], object]  # the text sent -> its value; raises rules.InvalidFact
    about: str
    form_field: str | None = None  # None: the API fills it in (from the token, the request)
    pattern: re.Pattern | None = None  # what the form field's text matches, for the contract
    kept: bool = False  # the image record keeps it as sent, in a field of the same name


FACTS = (
    Fact("label", rules.label, "the crop, as its sender or its batch folder names it",
         form_field="label", pattern=rules.LABEL, kept=True),
    Fact("client_lat", rules.latitude, "decimal degrees, -90..90, sent with lon",
         form_field="lat", pattern=rules.DEGREES),
    Fact("client_lon", rules.longitude, "decimal degrees, -180..180, sent with lat",
         form_field="lon", pattern=rules.DEGREES),
    Fact("client_captured_at", rules.captured_at,
         "when the photo was taken: an ISO 8601 time in the years 1900-2099, e.g. "
         "2024-06-01T12:30:00+02:00. With an offset the record gets the moment in UTC "
         "(captured_at) and the local time (captured_at_local); without one, only the local "
         "time. A time in the photo's own EXIF wins", form_field="captured_at"),
    Fact("device_id", rules.device_id, "the device whose token sent the photo", kept=True),
    Fact("request_id", rules.request_id, "the API request that brought it, for the logs"),
)

# The facts of a position: sent together, or neither.
PAIRED = ("client_lat", "client_lon")

FACT_NAMES = tuple(fact.name for fact in FACTS)
FORM_FACTS = tuple(fact for fact in FACTS if fact.form_field is not None)
KEPT_FACTS = tuple(fact for fact in FACTS if fact.kept)


def read_facts(texts: Mapping[str, str | None]) -> dict[str, object]:
    """The value of each fact from the texts sent, by fact name; None where nothing was sent.

    Raises rules.InvalidFact for the first text that breaks its rule.
    """
    rules.located(*(texts.get(name) for name in PAIRED))
    return {fact.name: rules.optional(fact.rule, texts.get(fact.name)) for fact in FACTS}


def form_field_of(name: str) -> str:
    """The upload form's field of a fact."""
    return next(fact.form_field for fact in FORM_FACTS if fact.name == name)


def fact_texts(values: Mapping[str, object]) -> dict[str, str]:
    """The texts of the facts that have a value, by fact name: what read_facts reads back."""
    return {name: _text(values[name]) for name in FACT_NAMES if values.get(name) is not None}


def _text(value: object) -> str:
    """Degrees in plain decimals (str(1e-05) is "1e-05", which the rule refuses)."""
    if isinstance(value, float):
        return f"{value:.12f}".rstrip("0").rstrip(".")
    return str(value)

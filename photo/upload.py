"""One photo in flight: its bytes with what its sender told (Upload), and how it came out of
the core (Outcome): processed, or rejected with a reason of photo/reasons.py.

The API builds an Upload from its form (ingest_api/upload/form.py), the stream from a Kafka
message (photo/messages.py), the batch job from a file. The stream, the batch job and the API's
tools all call process_upload: a photo the core refuses, or that breaks it, becomes a rejected
outcome with its reason (the dead-letter record), never an exception that stops a job.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from photo.facts import FACT_NAMES
from photo.reasons import INVALID_MESSAGE, PROCESSING_ERROR, STORAGE_REFUSED
from preprocessing.errors import ImageRejected
from preprocessing.formats import FORMATS
from preprocessing.pipeline import (
    DEFAULT_MAX_DECODE_MB,
    ProcessedImage,
    image_id_of,
    process_image,
)


@dataclass(frozen=True)
class Upload:
    """A photo, with what its sender told about it: an attribute per fact of photo/facts.py."""

    data: bytes
    source: str | None = None  # a batch file or a Kafka position; None until it is on Kafka
    label: str | None = None
    device_id: str | None = None
    client_lat: float | None = None
    client_lon: float | None = None
    client_captured_at: str | None = None
    request_id: str | None = None

    def facts(self) -> dict[str, object]:
        """What its sender told, by fact name."""
        return {name: getattr(self, name) for name in FACT_NAMES}


@dataclass(frozen=True)
class Outcome:
    """An upload after the core: processed, or rejected with a reason code and a sentence."""

    upload: Upload
    image_id: str
    processed: ProcessedImage | None = None
    reason: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.processed is not None

    @property
    def extension(self) -> str:
        return FORMATS[self.processed.metadata.format][1] if self.ok else "bin"


def process_upload(
    upload: Upload, *, n_variants: int, max_pixels: int, max_decode_mb: int = DEFAULT_MAX_DECODE_MB
) -> Outcome:
    """Run the core on one upload; refusals and unexpected failures become rejected outcomes."""
    image_id = image_id_of(upload.data)
    try:
        processed = process_image(
            upload.data, n_variants=n_variants, max_pixels=max_pixels, max_decode_mb=max_decode_mb
        )
    except ImageRejected as error:
        return Outcome(upload, image_id, reason=error.reason, error=str(error))
    except Exception as error:  # a bug or an exotic file must dead-letter, not stop the job
        return Outcome(upload, image_id, reason=PROCESSING_ERROR.code, error=repr(error))
    return Outcome(upload, image_id, processed=processed)


def invalid_message(data: bytes, source: str, error: str) -> Outcome:
    """A message that is not an upload of ours (bad headers): a dead letter before the core.

    One whose bytes could not be read is named by its position, so that each is a dead letter.
    """
    upload = Upload(data=data, source=source)
    image_id = image_id_of(data or source.encode())
    return Outcome(upload, image_id, reason=INVALID_MESSAGE.code, error=error)


def refused_by_storage(outcome: Outcome, error: str) -> Outcome:
    """An outcome whose original bytes the store refused to keep: a dead letter after all."""
    return replace(outcome, processed=None, reason=STORAGE_REFUSED.code, error=error)

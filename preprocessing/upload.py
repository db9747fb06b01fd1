"""One upload through the core: what its sender told us, then processed or rejected.

The stream, the batch job and the API's tools all call process_upload: a photo the core refuses,
or that breaks it, becomes a rejected outcome with its reason (the dead-letter record), never an
exception that stops a job.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    """A photo to process, with what its sender told us about it."""

    data: bytes
    source: str
    label: str | None = None
    device_id: str | None = None
    client_lat: float | None = None
    client_lon: float | None = None
    client_captured_at: str | None = None
    request_id: str | None = None  # the API request that brought it, for the logs


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
        return Outcome(upload, image_id, reason="processing_error", error=repr(error))
    return Outcome(upload, image_id, processed=processed)


def invalid_message(data: bytes, source: str, error: str) -> Outcome:
    """A message that is not an upload of ours (bad headers): a dead letter before the core.

    One whose bytes could not be read is named by its position, so that each is a dead letter.
    """
    upload = Upload(data=data, source=source)
    image_id = image_id_of(data or source.encode())
    return Outcome(upload, image_id, reason="invalid_message", error=error)


def refused_by_storage(outcome: Outcome, error: str) -> Outcome:
    """An outcome whose original bytes the store refused to keep: a dead letter after all."""
    return replace(outcome, processed=None, reason="storage_refused", error=error)

"""One upload through the core, and the manifest row that describes the result.

Both jobs call process_upload: a photo the core refuses, or that breaks it, becomes a rejected
outcome with its reason (the dead-letter record), never an exception that stops a job.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

from PIL import Image

from preprocessing import (
    DEFAULT_MAX_DECODE_MB,
    ImageRejected,
    ProcessedImage,
    image_id_of,
    process_image,
)
from preprocessing.formats import FORMATS

THUMBNAIL_SIZE = 96


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
    """A message that is not an upload of ours (bad headers): a dead letter before the core."""
    upload = Upload(data=data, source=source)
    return Outcome(upload, image_id_of(data), reason="invalid_message", error=error)


def refused_by_storage(outcome: Outcome, error: str) -> Outcome:
    """An outcome whose original bytes the store refused to keep: a dead letter after all."""
    return replace(outcome, processed=None, reason="storage_refused", error=error)


def thumbnail_jpeg(outcome: Outcome) -> bytes | None:
    """A small JPEG of the base tensor, for map popups."""
    if not outcome.ok:
        return None
    image = Image.fromarray(outcome.processed.base)
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def manifest_row(outcome: Outcome, raw_key: str, shard_key: str | None) -> dict:
    """The manifest's one row for this image: who, what, where taken, and where its data is."""
    upload = outcome.upload
    meta = outcome.processed.metadata if outcome.ok else None
    lat, lon, gps_source = (None, None, None)
    if meta and meta.lat is not None:
        lat, lon, gps_source = meta.lat, meta.lon, "exif"
    elif upload.client_lat is not None and upload.client_lon is not None:
        lat, lon, gps_source = upload.client_lat, upload.client_lon, "client"
    variants = ["base", *(f"aug{v.k}" for v in outcome.processed.variants)] if meta else []
    return {
        "image_id": outcome.image_id,
        "label": upload.label,
        "status": "ok" if outcome.ok else "rejected",
        "reason": outcome.reason,
        "error": outcome.error,
        "format": meta.format if meta else None,
        "width": meta.width if meta else None,
        "height": meta.height if meta else None,
        "orientation": meta.orientation if meta else None,
        "lat": lat,
        "lon": lon,
        "gps_source": gps_source,
        "altitude": meta.altitude if meta else None,
        "captured_at": (meta.captured_at if meta else None) or upload.client_captured_at,
        "camera": meta.camera if meta else None,
        "device_id": upload.device_id,
        "source": upload.source,
        "size_bytes": len(upload.data),
        "raw_key": raw_key,
        "shard_key": shard_key,
        "variants": variants,
        "thumbnail": thumbnail_jpeg(outcome),
    }


# What a row keeps when its search document is refused: what the pipeline itself wrote and what
# the client facts rules checked. Whatever the photo's EXIF said is dropped: the culprit is there.
TRUSTED_FIELDS = ("image_id", "label", "device_id", "source", "raw_key", "shard_key", "size_bytes")


def index_refused_row(row: dict, error: str) -> dict:
    """The dead letter of a photo whose search document Elasticsearch refused.

    Its tensors stay in the dataset (its manifest row is unchanged); the index gets this row.
    """
    kept = {name: row.get(name) for name in TRUSTED_FIELDS}
    return {**dict.fromkeys(row), **kept, "status": "rejected", "reason": "index_refused",
            "error": error}

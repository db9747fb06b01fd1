"""The manifest row of an upload's outcome: the image record (dataset/image_record.py) filled in."""

from __future__ import annotations

import io

from PIL import Image

from dataset.image_record import FIELD_NAMES, PROCESSED, REJECTED
from photo.facts import KEPT_FACTS
from photo.rules import capture_times_of
from photo.upload import Outcome

THUMBNAIL_SIZE = 96

# Where a record's position comes from; "none" when it has none.
GPS_SOURCES = ("exif", "client", "none")


def thumbnail_jpeg(outcome: Outcome) -> bytes | None:
    """A small JPEG of the base tensor, for map popups."""
    if not outcome.ok:
        return None
    image = Image.fromarray(outcome.processed.base)
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def manifest_row(outcome: Outcome, raw_key: str | None, shard_key: str | None) -> dict:
    """The image record of this outcome: who, what, where taken, how it looks, where its data is.

    duplicate_group and split are left empty: they depend on the photos already in the
    manifest, and are filled in where rows are committed (dataset/manifest_writer.py).
    """
    upload = outcome.upload
    meta = outcome.processed.metadata if outcome.ok else None
    signals = outcome.processed.curation if outcome.ok else None
    lat, lon, gps_source = (None, None, "none")
    if meta and meta.lat is not None:
        lat, lon, gps_source = meta.lat, meta.lon, "exif"
    elif upload.client_lat is not None and upload.client_lon is not None:
        lat, lon, gps_source = upload.client_lat, upload.client_lon, "client"
    captured_at, captured_at_local = capture_times_of(upload.client_captured_at)
    if meta and meta.captured_at_local is not None:  # the photo's own time wins, like its GPS
        captured_at, captured_at_local = meta.captured_at, meta.captured_at_local
    variants = ["base", *(f"aug{v.k}" for v in outcome.processed.variants)] if meta else []
    row = {
        **dict.fromkeys(FIELD_NAMES),
        "image_id": outcome.image_id,
        **{fact.name: getattr(upload, fact.name) for fact in KEPT_FACTS},
        "status": PROCESSED if outcome.ok else REJECTED,
        "reason": outcome.reason,
        "error": outcome.error,
        "lat": lat,
        "lon": lon,
        "gps_source": gps_source,
        "captured_at": captured_at,
        "captured_at_local": captured_at_local,
        "source": upload.source,
        "size_bytes": len(upload.data),
        "raw_key": raw_key,
        "shard_key": shard_key,
        "variants": variants,
        "thumbnail": thumbnail_jpeg(outcome),
    }
    if meta:
        row.update(format=meta.format, width=meta.width, height=meta.height,
                   orientation=meta.orientation, altitude=meta.altitude, camera=meta.camera,
                   colour_profile=meta.colour_profile, exif_error=meta.exif_error)
    if signals:
        row.update(sharpness=signals.sharpness, brightness=signals.brightness,
                   clipped_fraction=signals.clipped_fraction, phash=signals.phash)
    return row


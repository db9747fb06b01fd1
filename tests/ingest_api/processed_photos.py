"""Processed photos as the pipeline leaves them: a row in a dataset's manifest and a document in
the image index. A label correction needs both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import document_of
from adapters.object_store import open_store
from adapters.s3 import make_s3_client
from dataset.manifest_writer import ManifestWriter
from dataset.records import manifest_row
from infra.schemas import ensure_bucket, remove_bucket
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload
from settings import Settings

FRACTIONS = (0.8, 0.1, 0.1)


@contextmanager
def own_dataset(settings: Settings) -> Iterator[Settings]:
    """`settings` with a dataset root in a bucket of its own, removed at the end."""
    bucket, s3 = f"labels-{uuid.uuid4().hex[:8]}", make_s3_client(settings.s3)
    ensure_bucket(s3, bucket)
    try:
        yield replace(settings, dataset_root=f"s3://{bucket}/dataset")
    finally:
        remove_bucket(s3, bucket)


def write_photo(settings: Settings, seed: int, *, rejected: bool = False, **upload) -> dict:
    """Process a photo (a maize one unless `upload` says otherwise), commit its manifest row
    and index its document; returns the row."""
    data = b"not a photo" if rejected else encode(photo_like(160, 120, seed=seed), "jpeg")
    return write_record(settings, data, **{"label": "maize", **upload})


def write_record(settings: Settings, data: bytes, **upload) -> dict:
    """What the stream records of an upload of `data`: its manifest row, committed, and its
    document, indexed; returns the row."""
    outcome = process_upload(Upload(data, "test", **upload), n_variants=1, max_pixels=10**8)
    row = manifest_row(outcome, f"raw/{outcome.image_id}.jpg", None)
    store = open_store(settings.dataset_root, settings.s3)
    [row] = ManifestWriter.of(store, FRACTIONS).commit([row])
    es = make_elasticsearch_client(settings.elasticsearch_url)
    es.index(index=settings.elasticsearch_index, id=row["image_id"],
             document=document_of(row, processed_at="2026-11-23T08:00:00Z"), refresh="wait_for")
    return row

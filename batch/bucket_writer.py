"""The batch job's worker side: photos sorted by bucket in, one shard and its rows per bucket out.

A bucket is a prefix of the image id, so the same photos always land in the same shard,
whatever Spark's partitioning: a re-run rewrites the same objects. Given a model, each processed
photo is predicted here, where its tensors are, BATCH at a time (model/predictions.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyarrow as pa

from adapters.object_store import ObjectStore
from batch.file_ids import local_path
from dataset.image_record import FIELD_NAMES
from dataset.manifest import SCHEMA
from dataset.writer import write_group
from model.predictions import OutcomePredictions, ShippedModel
from photo.upload import Upload, process_upload

GROUP = "batch"


def relative_source(uri: str, input_dir: str) -> str:
    """A Spark file URI as a path relative to the input folder (img/maize/a.jpg -> maize/a.jpg)."""
    return str(local_path(uri).relative_to(PurePosixPath(input_dir)))


def label_of(source: str) -> str:
    """The crop label is the photo's parent folder."""
    return PurePosixPath(source).parent.name


def is_photo_path(source: str) -> bool:
    """Photos live in a crop folder: top-level files (README.md) and hidden files are not photos."""
    parts = PurePosixPath(source).parts
    return len(parts) >= 2 and not any(part.startswith(".") for part in parts)


@dataclass(frozen=True)
class BucketWriter:
    """Picklable mapInArrow function: rows (path, image_id, bucket) sorted by bucket in, image
    records out. It reads each photo's bytes itself, so the shuffle that groups the buckets
    carries no image data. Files not written come out as rows with status "duplicate",
    "ignored" or "unreadable", for the job's report."""

    store: ObjectStore
    input_dir: str
    n_variants: int
    max_pixels: int
    max_decode_mb: int
    model: ShippedModel | None = None  # the champion, if the job has one

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = (row for batch in batches for row in batch.to_pylist())
        predictions = OutcomePredictions(self.model)
        for bucket, bucket_rows in itertools.groupby(rows, key=lambda row: row["bucket"]):
            if bucket is None:  # files the first stage could not read
                unread = [self._unreadable(row["path"]) for row in bucket_rows]
                yield pa.RecordBatch.from_pylist(unread, schema=SCHEMA)
                continue
            skipped_rows: list[dict] = []
            outcomes = predictions.through(self._outcomes(bucket_rows, skipped_rows))
            written = write_group(self.store, GROUP, bucket, outcomes)
            written = [{**row, **predictions.fields_of(row)} for row in written]
            yield pa.RecordBatch.from_pylist(written + skipped_rows, schema=SCHEMA)

    def _unreadable(self, uri: str) -> dict:
        """The row of a file the first stage could not read (a non-photo file is ignored)."""
        source = relative_source(uri, self.input_dir)
        return skipped(None, source, "unreadable" if is_photo_path(source) else "ignored")

    def _outcomes(self, rows, skipped_rows: list[dict]):
        """Process the first photo of each image id; other files are reported, not written."""
        for image_id, copies in itertools.groupby(rows, key=lambda row: row["image_id"]):
            photos = []
            for row in copies:
                source = relative_source(row["path"], self.input_dir)
                if is_photo_path(source):
                    photos.append(source)
                else:
                    skipped_rows.append(skipped(image_id, source, "ignored"))
            for source in photos[1:]:
                skipped_rows.append(skipped(image_id, source, "duplicate"))
            if photos:
                source = photos[0]
                try:
                    data = (Path(self.input_dir) / source).read_bytes()
                except OSError:  # gone or locked since it was hashed
                    skipped_rows.append(skipped(image_id, source, "unreadable"))
                    continue
                upload = Upload(data=data, source=source, label=label_of(source))
                yield process_upload(upload, n_variants=self.n_variants,
                                     max_pixels=self.max_pixels, max_decode_mb=self.max_decode_mb)


def skipped(image_id: str | None, source: str, status: str) -> dict:
    """The row of a file that is not written: a duplicate photo, a non-photo file or a file
    that could not be read."""
    return {**dict.fromkeys(FIELD_NAMES), "image_id": image_id, "status": status,
            "source": source}

"""The dataset's dead letters: the rejected/<image id>.json records, each saying why a photo was
refused (a reason of photo/reasons.py) and where it came from. Written here (dead_letter, for
dataset/writer.py), and read here, newest first (by when the record was written).

A photo whose search document Elasticsearch refuses becomes one too, in the stream and the batch
job alike (index_or_dead_letter).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from adapters.image_index import index_rows
from adapters.object_store import LocalStore, ObjectStore, S3Store
from dataset.image_record import FIELD_NAMES, REJECTED
from dataset.layout import rejected_key
from photo.reasons import INDEX_REFUSED

REJECTED_PREFIX = "rejected/"  # where dataset.layout.rejected_key puts them
# What a dead letter says: why the photo was refused, where it came from (its Kafka position, for
# the stream) and where its original bytes are.
DEAD_LETTER_FIELDS = ("image_id", "reason", "error", "source", "label", "raw_key")
# What a row keeps when its search document is refused: what the pipeline itself wrote and what
# the rules of the sender's facts checked. Whatever the photo's EXIF said is dropped: the culprit
# is there.
TRUSTED_FIELDS = ("image_id", "label", "device_id", "source", "raw_key", "shard_key", "size_bytes",
                  "duplicate_group", "split")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    image_id: str
    reason: str
    error: str
    label: str | None
    source: str | None
    rejected_at: datetime

    def line(self) -> str:
        """One line for a person: when, which photo, why, and where it came from."""
        return (f"{self.rejected_at:%Y-%m-%d %H:%M:%S} UTC  {self.image_id}  {self.reason}: "
                f"{self.error}  (label {self.label or 'none'}, from {self.source})")


def dead_letter(row: dict) -> bytes:
    """The rejected/<image id>.json record of a rejected manifest row."""
    record = {name: row[name] for name in DEAD_LETTER_FIELDS}
    return json.dumps(record, indent=2).encode()


def index_refused_row(row: dict, error: str) -> dict:
    """The dead letter of a photo whose search document Elasticsearch refused.

    Its tensors stay in the dataset (its manifest row is unchanged); the index gets this row.
    """
    kept = {name: row.get(name) for name in TRUSTED_FIELDS}
    return {**dict.fromkeys(FIELD_NAMES), **kept, "gps_source": "none", "status": REJECTED,
            "reason": INDEX_REFUSED.code, "error": error}


def dead_letters(store: ObjectStore) -> list[DeadLetter]:
    """Every dead letter of the dataset, newest first."""
    letters = []
    for key, written in sorted(written_times(store).items(), key=lambda item: item[1],
                               reverse=True):
        record = json.loads(store.get_bytes(key))
        letters.append(DeadLetter(record["image_id"], record.get("reason") or "",
                                  record.get("error") or "", record.get("label"),
                                  record.get("source"), written))
    return letters


def count(store: ObjectStore) -> int:
    """How many dead letters the dataset holds (one listing, no record read)."""
    return len(store.list_keys(REJECTED_PREFIX))


def written_times(store: ObjectStore) -> dict[str, datetime]:
    """When each dead letter was last written (its file's or object's modification time)."""
    if isinstance(store, LocalStore):
        return {key: datetime.fromtimestamp((store.root / key).stat().st_mtime, UTC)
                for key in store.list_keys(REJECTED_PREFIX)}
    if isinstance(store, S3Store):
        strip = len(store.prefix) + 1 if store.prefix else 0
        prefix = f"{store.prefix}/{REJECTED_PREFIX}" if store.prefix else REJECTED_PREFIX
        pages = store.client.get_paginator("list_objects_v2").paginate(
            Bucket=store.bucket, Prefix=prefix)
        return {obj["Key"][strip:]: obj["LastModified"].astimezone(UTC)
                for page in pages for obj in page.get("Contents", [])}
    raise TypeError(f"no modification times for {type(store).__name__}")


def index_or_dead_letter(
    search: Elasticsearch, index: str, store: ObjectStore, rows: list[dict], processed_at: str
) -> list[dict]:
    """Index the rows; the photo of a document Elasticsearch refuses becomes a dead letter.

    Its letter (rejected/<id>.json in the store and a "rejected" document, keeping the row's
    `source`: where it came from) takes its row's place in the rows returned. Its manifest row
    and tensors stay in the dataset. A failure of the whole server raises (index_rows).
    """
    refusals = {refusal.image_id: refusal.error
                for refusal in index_rows(search, index, rows, processed_at)}
    if not refusals:
        return rows
    letters = [
        index_refused_row(row, f"Elasticsearch refused the document: {refusals[row['image_id']]}")
        for row in rows if row["image_id"] in refusals
    ]
    for letter in letters:
        store.put_bytes(rejected_key(letter["image_id"]), dead_letter(letter))
    for refusal in index_rows(search, index, letters, processed_at):
        log.error("even the dead letter of %s was refused: %s", refusal.image_id, refusal.error)
    letter_of = {letter["image_id"]: letter for letter in letters}
    return [letter_of.get(row["image_id"], row) for row in rows]

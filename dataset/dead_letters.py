"""The dataset's dead letters: the rejected/<image id>.json records, each saying why a photo was
refused and where it came from, newest first (by when the record was written)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.object_store import LocalStore, ObjectStore, S3Store

REJECTED_PREFIX = "rejected/"  # where dataset.layout.rejected_key puts them


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

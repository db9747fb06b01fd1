"""What a model learns from: one pinned snapshot's processed, labelled photos, and the facts
that say exactly which (the lineage a training run records).

The rows come from the dataset reader at the snapshot's version, with the reader's default
status (processed photos only: rejected ones have no tensor). Labels are the manifest rows',
which carry every correction made before the snapshot was pinned; the shards' own json keeps
the label a photo arrived with, so it is never used here. Which samples of a row are read is
the reader's rule too (dataset.reader.wanted_variants): every variant of a training photo, the
base tensor alone of a val or test photo.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from dataset.reader import DatasetReader, wanted_variants
from dataset.reader_checks import DatasetError
from dataset.shard_stream import WantedVariants
from dataset.snapshots import SnapshotError
from settings import S3Settings


class DataUnavailable(Exception):
    """The snapshot cannot be read: no such snapshot, no S3 server, no bucket. One sentence."""


@dataclass(frozen=True)
class Lineage:
    """Which data a model was trained on, as run parameters."""

    root: str
    snapshot: str
    delta_version: int
    rows: int
    ids_sha256: str

    def params(self) -> dict[str, str | int]:
        return {f"dataset.{name}": value for name, value in vars(self).items()}


@dataclass(frozen=True)
class SnapshotData:
    """The reader at the snapshot's version and the rows a model uses, sorted by image id."""

    reader: DatasetReader
    rows: pd.DataFrame
    lineage: Lineage

    def wanted(self) -> WantedVariants:
        """image id -> the variants to read: all for train, the base for val and test."""
        return wanted_variants(self.rows, None)

    def split(self, name: str) -> pd.DataFrame:
        return self.rows[self.rows["split"] == name]


def ids_sha256(image_ids: pd.Series) -> str:
    """sha256 of the sorted image ids, one per line: the same rows give the same hash."""
    return hashlib.sha256("\n".join(sorted(image_ids)).encode()).hexdigest()


def load(root: str, snapshot: str, s3: S3Settings) -> SnapshotData:
    """The snapshot's processed, labelled rows; DataUnavailable says in a sentence why not."""
    try:
        reader = DatasetReader.open(root, s3, snapshot=snapshot)
        rows = reader.manifest()  # the reader's default status: processed photos
    except SnapshotError as error:
        raise DataUnavailable(f"{root}: {error}") from error
    except DatasetError as error:  # no dataset there, or a store it cannot read: in words
        raise DataUnavailable(str(error)) from error
    rows = rows[rows["label"].notna()].sort_values("image_id").reset_index(drop=True)
    lineage = Lineage(root, snapshot, reader.version, len(rows), ids_sha256(rows["image_id"]))
    return SnapshotData(reader, rows, lineage)


"""What the manifest holds about each image: where it was first recorded from, its perceptual
hash and its duplicate group.

This is what decides what enters the dataset: the stream's writers ask it whether a message's
photo is recorded already (and from which message), and whoever commits (the stream's driver,
the batch job) places new photos in their near-duplicate group with it. Elasticsearch, derived
from the table, is never asked, so a lost or rebuilt index changes nothing that is written.

Each holder keeps it in memory and refreshes it from the table's new data files only (found in
the log's add actions, read one by one), so a refresh costs about the same however big the
table grows. Files that compaction rewrote are read once more; their rows are the same.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from dataset.duplicates import KnownScenes
from dataset.manifest import Manifest
from dataset.splits import split_of

COLUMNS = ["image_id", "source", "phash", "duplicate_group"]


class Catalog:
    """image id -> the source of its row for every image the manifest holds; image id ->
    duplicate group for processed photos, and the (phash, group) pairs new photos are compared
    with."""

    def __init__(self, manifest: Manifest):
        self.manifest = manifest
        self.sources: dict[str, str | None] = {}
        self.groups: dict[str, str] = {}
        self.scenes = KnownScenes()
        self._files: set[str] = set()

    def refresh(self) -> None:
        """Read the rows of the data files added since the last refresh."""
        table = self.manifest.table()
        if table is None:
            return
        paths = pa.table(table.get_add_actions(flatten=True)).column("path").to_pylist()
        new = [path for path in paths if path not in self._files]
        if not new:
            return
        files = self.manifest.files()
        for path in new:
            for row in pq.read_table(path, columns=COLUMNS, filesystem=files).to_pylist():
                self._learn(row)
            self._files.add(path)

    def place(self, rows: list[dict], fractions: tuple[float, float, float]) -> list[dict]:
        """The rows with their duplicate group and split: an image's own if the manifest
        already has it, else that of its nearest scene within the threshold, else its own."""
        placed = []
        for row in rows:
            group = self.groups.get(row["image_id"])
            if group is None and row["phash"]:
                group = self.groups[row["image_id"]] = self.scenes.place(row["image_id"],
                                                                         row["phash"])
            split = split_of(group, fractions) if group else None
            placed.append({**row, "duplicate_group": group, "split": split})
        return placed

    def source_of(self, image_id: str) -> str | None:
        """Where the manifest's row of the image came from (a Kafka position or a batch file);
        None when the manifest does not hold the image."""
        return self.sources.get(image_id)

    def __contains__(self, image_id: str) -> bool:
        return image_id in self.sources

    def _learn(self, row: dict) -> None:
        self.sources[row["image_id"]] = row["source"]
        if row["duplicate_group"] and row["image_id"] not in self.groups:
            self.groups[row["image_id"]] = row["duplicate_group"]
            self.scenes.add(row["phash"], row["duplicate_group"])

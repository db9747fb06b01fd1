"""What the manifest holds about each image's scene: its perceptual hash and duplicate group.

Kept in memory by whoever commits (the stream's driver, the batch job) and refreshed from the
table's new data files only, so placing a micro-batch costs about the same however big the
table grows. Files that compaction rewrote are read once more; their rows are the same.
"""

from __future__ import annotations

from dataset.duplicates import assign_groups
from dataset.manifest import Manifest
from dataset.splits import split_of

COLUMNS = ["image_id", "phash", "duplicate_group"]


class Catalog:
    """image id -> duplicate group, and the (phash, group) pairs new photos are compared with."""

    def __init__(self, manifest: Manifest):
        self.manifest = manifest
        self.groups: dict[str, str] = {}
        self.hashes: list[tuple[str, str]] = []
        self._files: set[str] = set()

    def refresh(self) -> None:
        """Read the rows of the data files added since the last refresh."""
        table = self.manifest.table()
        if table is None:
            return
        for fragment in table.to_pyarrow_dataset().get_fragments():
            if fragment.path in self._files:
                continue
            for row in fragment.to_table(columns=COLUMNS).to_pylist():
                self._learn(row)
            self._files.add(fragment.path)

    def place(self, rows: list[dict], fractions: tuple[float, float, float]) -> list[dict]:
        """The rows with their duplicate group and split: an image's own if the manifest
        already has it, else that of its nearest scene within the threshold, else its own."""
        new = [(row["image_id"], row["phash"]) for row in rows
               if row["phash"] and row["image_id"] not in self.groups]
        found = assign_groups(self.hashes, new)
        placed = []
        for row in rows:
            group = self.groups.get(row["image_id"]) or found.get(row["image_id"])
            split = split_of(group, fractions) if group else None
            placed.append({**row, "duplicate_group": group, "split": split})
        for row in placed:
            self._learn(row)
        return placed

    def __contains__(self, image_id: str) -> bool:
        return image_id in self.groups

    def _learn(self, row: dict) -> None:
        if row["duplicate_group"] and row["image_id"] not in self.groups:
            self.groups[row["image_id"]] = row["duplicate_group"]
            self.hashes.append((row["phash"], row["duplicate_group"]))

"""Committing rows to the manifest: each placed in its duplicate group and split first.

The stream's driver and the batch job both commit through a ManifestWriter, so both place
photos the same way, and their search documents carry the same group and split as the table.
"""

from __future__ import annotations

from adapters.object_store import ObjectStore
from dataset.catalog import Catalog
from dataset.label_corrections import CorrectionLog
from dataset.manifest import Manifest


class ManifestWriter:
    """Places rows, then commits them: new images appended, known ones replaced, each with
    its latest corrected label if someone corrected it."""

    def __init__(
        self, manifest: Manifest, fractions: tuple[float, float, float],
        corrections: CorrectionLog | None = None,
    ):
        self.manifest, self.fractions, self.corrections = manifest, fractions, corrections
        self.catalog = Catalog(manifest)

    @classmethod
    def of(cls, store: ObjectStore, fractions: tuple[float, float, float]) -> ManifestWriter:
        """The writer of a store's manifest, which keeps its label corrections."""
        return cls(Manifest.of(store), fractions, CorrectionLog.of(store))

    def commit(
        self, rows: list[dict], *, app_id: str | None = None, batch_id: int | None = None
    ) -> list[dict]:
        """The placed rows, committed unless `app_id` has committed `batch_id` already (a
        replayed micro-batch: the rows are placed as the first time, and nothing is written)."""
        rows = list({row["image_id"]: row for row in rows}.values())  # one row per image
        if self.corrections is not None:
            rows = self.corrections.relabelled(rows)
        self.catalog.refresh()
        known = {row["image_id"] for row in rows if row["image_id"] in self.catalog}
        placed = self.catalog.place(rows, self.fractions)
        if app_id is not None and self._committed_already(app_id, batch_id):
            return placed
        if placed:
            self.manifest.commit(placed, replace_ids=known, app_id=app_id, batch_id=batch_id)
        return placed

    def _committed_already(self, app_id: str, batch_id: int) -> bool:
        last = self.manifest.committed(app_id)
        return last is not None and last >= batch_id

"""Committing rows to the manifest: each placed in its duplicate group and split first.

The stream's driver and the batch job both commit through a ManifestWriter, so both place
photos the same way, and their search documents carry the same group and split as the table.
"""

from __future__ import annotations

from dataset.catalog import Catalog
from dataset.manifest import Manifest


class ManifestWriter:
    """Places rows, then commits them: new images appended, known ones replaced."""

    def __init__(self, manifest: Manifest, fractions: tuple[float, float, float]):
        self.manifest, self.fractions = manifest, fractions
        self.catalog = Catalog(manifest)

    def commit(
        self, rows: list[dict], *, app_id: str | None = None, batch_id: int | None = None
    ) -> list[dict]:
        """The placed rows, committed unless `app_id` has committed `batch_id` already (a
        replayed micro-batch: the rows are placed as the first time, and nothing is written)."""
        rows = list({row["image_id"]: row for row in rows}.values())  # one row per image
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

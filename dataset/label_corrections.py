"""Label corrections: who changed a photo's crop label, from what to what, when, and why; and
what the model predicted for the photo then (the feedback loop: where people overrule it).

Kept in a Delta table beside the manifest (`<root>/label_corrections/`), one appended row per
correction: the history is never rewritten. A "correction" to the label the photo has already
changes nothing and is not recorded. A correction is durable once recorded; then the manifest
row and the search document take the new label. The stream and the batch job apply the
latest corrections to the rows they commit, so a batch job run again never brings an old label
back, and the next snapshot carries the corrected one.

The prediction columns came later, and the margin after them: a table made before them gets
them at its next correction (Delta's schema merge), its earlier rows reading null there.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.compute as pc

from dataset.delta_tables import DatasetTable

CORRECTIONS_DIR = "label_corrections"
MAX_NOTE_CHARS = 500
# A model version as a correction may name it: the registry's (digits in MLflow), short, printable.
MODEL_VERSION = re.compile(r"[0-9A-Za-z._-]{1,64}")

SCHEMA = pa.schema([
    ("image_id", pa.string()),
    ("old_label", pa.string()),
    ("new_label", pa.string()),
    ("note", pa.string()),
    ("device_id", pa.string()),
    ("corrected_at", pa.string()),  # UTC, ISO 8601
    ("request_id", pa.string()),
    ("prediction", pa.string()),  # the crop the model predicted, when one did
    ("prediction_confidence", pa.float64()),
    ("prediction_margin", pa.float64()),  # above the second best crop's probability
    ("model_version", pa.string()),  # the registered model's version that predicted it
])


@dataclass(frozen=True)
class LabelCorrection:
    """One correction of one photo's label."""

    image_id: str
    old_label: str | None
    new_label: str
    note: str | None
    device_id: str | None
    corrected_at: str
    request_id: str | None
    prediction: str | None = None
    prediction_confidence: float | None = None
    model_version: str | None = None
    prediction_margin: float | None = None

    @property
    def changes_label(self) -> bool:
        """Whether it gives the photo another label than the one it has."""
        return self.new_label != self.old_label


class CorrectionLog(DatasetTable):
    """The corrections of one dataset root, and the latest label of each corrected photo."""

    DIRECTORY = CORRECTIONS_DIR
    SCHEMA = SCHEMA

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None):
        super().__init__(uri, storage_options)
        self._latest: dict[str, str] = {}
        self._version: int | None = None
        self._reviewed: dict[str, set[str]] = {}
        self._reviewed_version: int | None = None

    def __getstate__(self):
        return {**super().__getstate__(), "_latest": {}, "_version": None, "_reviewed": {},
                "_reviewed_version": None}

    def record(self, correction: LabelCorrection, *, review: bool = False) -> None:
        """Append the correction; it is durable when this returns. One that does not change the
        label is no correction, and is appended only as a `review`'s confirmation."""
        if not (correction.changes_label or review):
            return
        self.append(pa.Table.from_pylist([asdict(correction)], schema=SCHEMA),
                    schema_mode="merge")

    def history(self, image_id: str) -> list[LabelCorrection]:
        """The photo's corrections, oldest first."""
        rows = self.rows()
        mine = rows.filter(pc.equal(rows["image_id"], image_id)).to_pylist()
        return [LabelCorrection(**row) for row in sorted(mine, key=lambda r: r["corrected_at"])]

    def latest_labels(self) -> dict[str, str]:
        """image id -> its newest corrected label; read again only when the table changed."""
        table = self.table()
        if table is None or table.version() == self._version:
            return self._latest
        rows = sorted(table.to_pyarrow_table(filesystem=self.files()).to_pylist(),
                      key=lambda r: r["corrected_at"])
        self._latest = {row["image_id"]: row["new_label"] for row in rows}
        self._version = table.version()
        return self._latest

    def relabelled(self, rows: list[dict]) -> list[dict]:
        """The rows, each photo's with its newest corrected label where someone corrected it."""
        corrected = self.latest_labels()
        return [{**row, "label": corrected.get(row["image_id"], row["label"])} for row in rows]

    def reviewed(self) -> dict[str, set[str]]:
        """model version -> the photos whose prediction by it a person corrected or confirmed;
        read again only when the table changed."""
        table = self.table()
        if table is None or table.version() == self._reviewed_version:
            return self._reviewed
        rows = table.to_pyarrow_table(columns=["image_id", "model_version"],
                                      filesystem=self.files()).to_pylist()
        reviewed: dict[str, set[str]] = {}
        for row in rows:
            if row["model_version"] is not None:
                reviewed.setdefault(row["model_version"], set()).add(row["image_id"])
        self._reviewed, self._reviewed_version = reviewed, table.version()
        return reviewed

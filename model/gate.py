"""The promotion gate: the candidate and the champion scored on the same pinned test split, and
the rule that decides (docs/model.md, "The gate").

Scoring is the training's own Spark job (model/features.py) run with the whole classifier
instead of the backbone: its first output is then the probabilities. The metrics are
model/metrics.py's, so the gate measures exactly what training reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from model.features import extract_features
from model.metrics import evaluate
from model.snapshot_data import Lineage, load
from settings import Settings

SPLIT = "test"
# A candidate may be this much below the champion's macro-F1 and still be promoted: on a test
# split of a few dozen photos, one photo moves macro-F1 by more than that.
TOLERANCE = 0.01


@dataclass(frozen=True)
class Scores:
    """The metrics of each version on the evaluation set (None where it has no test photos)."""

    lineage: Lineage  # the evaluation set: root, snapshot, its Delta version, its rows
    photos: int  # in its test split
    metrics: dict[str, dict]  # version -> model/metrics.py's evaluate()


def classes_of(model: Path) -> list[str]:
    """The class names, in the order of the probabilities (the model's metadata)."""
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return json.loads(session.get_modelmeta().custom_metadata_map["classes"])


def score(settings: Settings, models: dict[str, Path], root: str, snapshot: str) -> Scores:
    """Each model (version -> its ONNX file) on the test split of the snapshot; DataUnavailable
    says in a sentence when the snapshot cannot be read."""
    data = load(root, snapshot, settings.s3)
    rows = data.split(SPLIT)
    metrics = {}
    if len(rows):
        for version, path in models.items():
            table = extract_features(rows, data.wanted(), data.reader.store, path.read_bytes(),
                                     settings)
            flat = table.column("features").combine_chunks().flatten().to_numpy()
            probabilities = flat.reshape(table.num_rows, -1)
            labels = rows.set_index("image_id").loc[table.column("image_id").to_pylist(), "label"]
            metrics[version] = evaluate(labels.to_numpy(), probabilities, classes_of(path))
    return Scores(data.lineage, len(rows), metrics)


def verdict(candidate: dict, champion: dict) -> tuple[bool, str]:
    """(promote?, why): the candidate passes unless its macro-F1 is below the champion's by
    more than TOLERANCE."""
    mine, theirs = candidate["macro_f1"], champion["macro_f1"]
    if mine >= theirs:
        return True, f"macro-F1 {mine:.3f}, not below the champion's {theirs:.3f}"
    if mine >= theirs - TOLERANCE:
        return True, f"macro-F1 {mine:.3f}, within {TOLERANCE} of the champion's {theirs:.3f}"
    return False, f"macro-F1 {mine:.3f}, below the champion's {theirs:.3f} by more than {TOLERANCE}"

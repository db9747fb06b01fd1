"""Training from a pinned snapshot, as one readable script: data -> features -> head ->
evaluation -> the files of a model.

Everything a run decides comes from the snapshot and the seed: the same two give the same
metrics. The served model is one ONNX file (model/classifier.py); the metrics, the confusion
matrices and a model card are written beside it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from dataset.splits import SPLITS
from model import backbone, drift, head
from model.buckets import Thresholds, buckets
from model.card import model_card
from model.classifier import classifier_onnx
from model.confusion_png import confusion_png
from model.features import extract_features
from model.metrics import evaluate
from model.snapshot_data import DataUnavailable, SnapshotData, load
from settings import Settings

EVALUATED = ("val", "test")
RECORD_COLUMNS = ["split", "label", "sharpness", "brightness", "clipped_fraction"]
SYNTHETIC = "measured on synthetic pictures"
MODEL_FILE, METRICS_FILE, CARD_FILE = "model.onnx", "metrics.json", "model_card.md"


@dataclass
class TrainedModel:
    """A model and what is known of it, before it is written anywhere."""

    onnx: bytes
    report: dict  # metrics.json
    samples: pd.DataFrame  # image_id, variant, split, label, ... of every sample read
    features: np.ndarray  # the backbone's features of each sample, row for row
    pictures: dict[str, bytes] = field(default_factory=dict)  # file name -> PNG
    drift_reference: dict | None = None  # drift_reference.json: the stream's drift baseline

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.onnx).hexdigest()

    def write(self, output: Path) -> Path:
        """The model's files in `output` (created); returns it."""
        output.mkdir(parents=True, exist_ok=True)
        (output / MODEL_FILE).write_bytes(self.onnx)
        (output / METRICS_FILE).write_text(json.dumps(self.report, indent=2) + "\n")
        for name, png in self.pictures.items():
            (output / name).write_bytes(png)
        (output / CARD_FILE).write_text(model_card(self.report))
        if self.drift_reference is not None:
            reference = json.dumps(self.drift_reference, indent=2) + "\n"
            (output / drift.REFERENCE_FILE).write_text(reference)
        return output


def train(
    root: str, snapshot: str, seed: int, settings: Settings, *, synthetic: bool = True
) -> TrainedModel:
    """Train on exactly the snapshot's rows; DataUnavailable says in a sentence why not."""
    started = time.monotonic()
    data = load(root, snapshot, settings.s3)
    if data.split("train")["label"].nunique() < 2:
        raise DataUnavailable(f"snapshot {snapshot!r} has photos of fewer than two crops in its "
                              "train split: nothing to tell apart")
    exported = backbone.export_onnx()
    extraction_started = time.monotonic()
    table = extract_features(data.rows, data.wanted(), data.reader.store, exported, settings)
    extraction_s = time.monotonic() - extraction_started
    samples, features = labelled(table, data)
    training = (samples["split"] == "train").to_numpy()
    fit_started = time.monotonic()
    fitted = head.fit_head(features[training], samples.loc[training, "label"].to_numpy(), seed)
    fit_s = time.monotonic() - fit_started
    classes = [str(name) for name in fitted.classes_]
    thresholds = Thresholds.from_training(data.split("train"))
    measured = {split: measure(samples, features, split, fitted, classes, thresholds)
                for split in EVALUATED}
    params = {**data.lineage.params(), **head.params(fitted, seed)}
    onnx_model = classifier_onnx(exported, fitted, {key: str(value)
                                                    for key, value in params.items()})
    report = {
        "model": {"sha256": hashlib.sha256(onnx_model).hexdigest(), "file": MODEL_FILE,
                  "backbone": backbone.ARCHITECTURE, "classes": classes,
                  "input": "image: uint8 [N, 224, 224, 3], the dataset's base tensor",
                  "output": "probabilities: float32 [N, classes]"},
        "params": params,
        "pictures": "synthetic" if synthetic else "real",
        "measured_on": SYNTHETIC if synthetic else "real photos",
        "data": counts(data, samples),
        "bucket_thresholds": thresholds.as_dict(),
        "metrics": measured,
        # A process's first run includes starting Spark and its Python workers.
        "timings": {"feature_extraction_s": round(extraction_s, 2),
                    "images_per_s": round(len(samples) / extraction_s, 1),
                    "head_fit_s": round(fit_s, 2),
                    "total_s": round(time.monotonic() - started, 2)},
    }
    pictures = confusion_pictures(measured, report["measured_on"])
    reference = drift_reference(data.rows, samples, features, fitted, classes)
    return TrainedModel(onnx_model, report, samples, features, pictures, reference)


def drift_reference(rows: pd.DataFrame, samples: pd.DataFrame, features: np.ndarray, fitted,
                    classes: list[str]) -> dict:
    """The histograms the stream measures drift against (model/drift.py): the curation signals
    of the snapshot's photos, and the model's answers on the photos it did not learn from (val
    and test, base tensors), as the stream's photos are."""
    held_out = samples["split"].isin(EVALUATED).to_numpy()
    probabilities = (fitted.predict_proba(features[held_out]) if held_out.any()
                     else np.zeros((0, len(classes))))
    return drift.to_json(drift.reference(
        sharpness=rows["sharpness"].dropna().to_numpy(),
        brightness=rows["brightness"].dropna().to_numpy(),
        predictions=[classes[best] for best in probabilities.argmax(axis=1)],
        confidences=probabilities.max(axis=1), classes=classes))


def photos(n: int) -> str:
    return f"{n} photo" if n == 1 else f"{n} photos"


def confusion_pictures(measured: dict, measured_on: str) -> dict[str, bytes]:
    """confusion_<split>.png of each evaluated split that has photos."""
    pictures = {}
    for split in EVALUATED:
        metrics = measured[split]
        if metrics["n"]:
            matrix = metrics["confusion_matrix"]
            title = (f"{split}: {photos(metrics['n'])}, accuracy {metrics['accuracy']:.3f} "
                     f"({measured_on})")
            pictures[f"confusion_{split}.png"] = confusion_png(matrix["labels"],
                                                               matrix["counts"], title)
    return pictures


def labelled(table: pa.Table, data: SnapshotData) -> tuple[pd.DataFrame, np.ndarray]:
    """The samples (image_id, variant and their record's RECORD_COLUMNS), sorted, and their
    features, row for row."""
    ids = table.select(["image_id", "variant"]).to_pandas()
    samples = ids.merge(data.rows[["image_id", *RECORD_COLUMNS]], on="image_id", how="left")
    flat = table.column("features").combine_chunks().flatten().to_numpy()
    return samples, flat.reshape(len(samples), backbone.FEATURES)


def measure(samples, features, split, fitted, classes, thresholds) -> dict:
    """The split's metrics, overall and per curation bucket (by each photo's record)."""
    mine = (samples["split"] == split).to_numpy()
    if not mine.any():
        return {"n": 0, "buckets": {}}
    rows = samples[mine]
    labels = rows["label"].to_numpy()
    probabilities = fitted.predict_proba(features[mine])
    metrics = evaluate(labels, probabilities, classes)
    metrics["buckets"] = {
        name: evaluate(labels[inside.to_numpy()], probabilities[inside.to_numpy()], classes)
        for name, inside in buckets(rows, thresholds).items()
    }
    return metrics


def counts(data: SnapshotData, samples: pd.DataFrame) -> dict:
    """Photos and samples (tensors read) per split."""
    return {
        "photos": {split: int((data.rows["split"] == split).sum()) for split in SPLITS},
        "samples": {split: int((samples["split"] == split).sum()) for split in SPLITS},
        "variants": {split: sorted(samples.loc[samples["split"] == split, "variant"].unique())
                     for split in SPLITS},
    }

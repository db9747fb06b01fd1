"""How well a model answers on a set of photos: accuracy, macro-F1, per-class precision and
recall, the confusion matrix and the expected calibration error. Plain functions of labels and
probabilities, so val, test and each curation bucket are measured by the same code."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

CALIBRATION_BINS = 15


def expected_calibration_error(
    correct: np.ndarray, confidence: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their share of
    the photos (Guo et al., 2017). 0 is a model whose 0.8 is right 80 % of the time."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def defined(value: float) -> float | None:
    """The value, or None where it is undefined (precision of a class never predicted, recall
    of a class with no photos): JSON has no NaN."""
    return None if np.isnan(value) else float(value)


def evaluate(labels: np.ndarray, probabilities: np.ndarray, classes: list[str]) -> dict:
    """The metrics of the predictions against the labels; with no photos, only n = 0.

    Classes are the model's, in the order of the probabilities' columns. A label the model
    does not know counts as an error, and appears in the confusion matrix's rows. Macro-F1 is
    scikit-learn's: the mean F1 over the classes labelled or predicted."""
    n = len(labels)
    if n == 0:
        return {"n": 0}
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    names = sorted(set(classes) | set(labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=names, zero_division=np.nan)
    confidence = probabilities.max(axis=1)
    correct = predicted == labels
    return {
        "n": n,
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
        "expected_calibration_error": expected_calibration_error(correct, confidence),
        "mean_confidence": float(confidence.mean()),
        "per_class": {name: {"precision": defined(p), "recall": defined(r), "f1": defined(f),
                             "support": int(s)}
                      for name, p, r, f, s in zip(names, precision, recall, f1, support,
                                                  strict=True)},
        "confusion_matrix": {"labels": names,
                             "counts": confusion_matrix(labels, predicted, labels=names).tolist()},
    }

"""Drift arithmetic: the population stability index (PSI) of recent photos against the photos a
model was trained on, with no I/O.

At training, each signal's reference histogram is made from the snapshot (`reference`); its bins
are fixed then: for a number, the deciles of the reference values (ten bins of about a tenth of
the reference each, the outer two open-ended), for the predicted crop, the model's classes. A
window of recent values falls into the same bins (`Histogram.fractions_of`) and
PSI = sum over bins of (actual - expected) * ln(actual / expected), each share floored at
EPSILON so that an empty bin adds a large but finite term. By the usual convention, below 0.1
is stable, 0.1-0.25 a moderate shift, above 0.25 a major one. The sampling noise of a
reference and of a window adds about (bins - 1) / photos to each: small ones false-alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

REFERENCE_FILE = "drift_reference.json"  # logged with each model version
SIGNALS = ("sharpness", "brightness", "predicted_crop", "confidence")
BINS = 10
EPSILON = 1e-4  # the share an empty bin counts as
# Fewer photos than this in a reference or a window, and an unchanged stream reads as a shift
# (bench/drift_sample_size.py measures it; docs/model.md, "Drift").
MIN_PHOTOS = 300


@dataclass(frozen=True)
class Histogram:
    """A signal's reference: the share of the reference values in each bin, and the bins, as
    inner edges of a number (a value equal to an edge goes above it) or as categories."""

    fractions: tuple[float, ...]
    photos: int  # how many values the reference was made from
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    def fractions_of(self, values: Sequence) -> np.ndarray:
        """The share of `values` in each of the reference's bins."""
        if self.categories:
            index = {category: n for n, category in enumerate(self.categories)}
            bins = np.array([index[value] for value in values if value in index], dtype=int)
        else:
            bins = np.searchsorted(self.edges, np.asarray(values, float), side="right")
        return np.bincount(bins, minlength=len(self.fractions)) / max(len(values), 1)


def numeric_histogram(values: Sequence[float], bins: int = BINS) -> Histogram:
    """The reference of a number: bins at its deciles, which are reference values (fewer bins
    when values repeat)."""
    values = np.asarray(values, float)
    edges = np.quantile(values, np.arange(1, bins) / bins, method="lower")
    edges = tuple(np.unique(edges).tolist())
    return _measured(Histogram((0.0,) * (len(edges) + 1), len(values), edges=edges), values)


def categorical_histogram(values: Sequence[str], categories: Sequence[str]) -> Histogram:
    """The reference of a category: one bin per category, in the order given."""
    bins = Histogram((0.0,) * len(categories), len(values), categories=tuple(categories))
    return _measured(bins, values)


def _measured(bins: Histogram, values: Sequence) -> Histogram:
    """`bins` with the shares of `values` in them."""
    return Histogram(tuple(bins.fractions_of(values).tolist()), len(values), bins.edges,
                     bins.categories)


def psi(expected: Sequence[float], actual: Sequence[float], epsilon: float = EPSILON) -> float:
    """The population stability index of `actual` shares against `expected` ones, bin for bin."""
    expected = np.maximum(np.asarray(expected, float), epsilon)
    actual = np.maximum(np.asarray(actual, float), epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def window_psi(reference: Histogram, values: Sequence) -> float:
    """The PSI of a window of values against a signal's reference."""
    return psi(reference.fractions, reference.fractions_of(values))


def reference(sharpness: Sequence[float], brightness: Sequence[float],
              predictions: Sequence[str], confidences: Sequence[float],
              classes: Sequence[str]) -> dict[str, Histogram]:
    """Each signal's reference histogram; a signal without values has none."""
    histograms = {"sharpness": numeric_histogram(sharpness) if len(sharpness) else None,
                  "brightness": numeric_histogram(brightness) if len(brightness) else None,
                  "predicted_crop": (categorical_histogram(predictions, classes)
                                     if len(predictions) else None),
                  "confidence": numeric_histogram(confidences) if len(confidences) else None}
    return {signal: histogram for signal, histogram in histograms.items() if histogram}


def to_json(histograms: dict[str, Histogram]) -> dict:
    """The histograms as drift_reference.json holds them."""
    return {"bins": BINS, "epsilon": EPSILON,
            "signals": {signal: {"fractions": list(histogram.fractions),
                                 "photos": histogram.photos, "edges": list(histogram.edges),
                                 "categories": list(histogram.categories)}
                        for signal, histogram in histograms.items()}}


def from_json(document: dict) -> dict[str, Histogram]:
    """The histograms of a drift_reference.json."""
    return {signal: Histogram(tuple(fields["fractions"]), fields["photos"],
                              tuple(fields["edges"]), tuple(fields["categories"]))
            for signal, fields in document["signals"].items() if signal in SIGNALS}

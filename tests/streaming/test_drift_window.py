"""The stream's drift window on its own: which photos each signal is measured over, and when a
reference is too small to measure against."""

from __future__ import annotations

import json

import numpy as np

from model import drift
from model.registry import ServedModel
from streaming.drift import DriftWindow

RNG = np.random.default_rng(3)
CROPS = ["cassava", "maize"]


def champion(folder, version: str, photos: int = 400) -> ServedModel:
    """A champion whose reference is `photos` photos of the window's kind."""
    path = folder / version / drift.REFERENCE_FILE
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(drift.to_json(drift.reference(
        sharpness=RNG.gamma(2, 200, photos), brightness=RNG.normal(0.45, 0.08, photos),
        predictions=RNG.choice(CROPS, photos), confidences=RNG.uniform(0.5, 1, photos),
        classes=CROPS))))
    return ServedModel("crop-classifier", version, f"run-{version}", path.parent / "model.onnx",
                       {}, drift_reference=path)


def rows(count: int, version: str) -> list[dict]:
    return [{"sharpness": float(RNG.gamma(2, 200)), "brightness": float(RNG.normal(0.45, 0.08)),
             "prediction": str(RNG.choice(CROPS)),
             "prediction_confidence": float(RNG.uniform(0.5, 1)), "model_version": version}
            for _ in range(count)]


def test_after_a_promotion_the_models_signals_wait_for_a_window_of_its_own_answers(tmp_path):
    window = DriftWindow(300)
    window.add(rows(300, "1"))
    assert set(window.measure(champion(tmp_path, "1"))) == set(drift.SIGNALS)

    promoted = champion(tmp_path, "2")
    window.add(rows(299, "2"))
    assert set(window.measure(promoted)) == {"sharpness", "brightness"}

    window.add(rows(1, "2"))
    measured = window.measure(promoted)
    assert set(measured) == set(drift.SIGNALS)
    assert all(value < 0.25 for value in measured.values()), measured


def test_a_reference_of_too_few_photos_is_not_measured_against(tmp_path):
    window = DriftWindow(300)
    window.add(rows(300, "1"))

    small = champion(tmp_path, "1", photos=drift.MIN_PHOTOS - 1)

    assert window.measure(small) == {}
    assert window.reference_photos() == dict.fromkeys(drift.SIGNALS, drift.MIN_PHOTOS - 1)

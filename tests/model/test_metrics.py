"""Metrics on labels and probabilities whose right answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from model.metrics import evaluate, expected_calibration_error

CLASSES = ["maize", "wheat"]


def test_a_model_whose_confidence_matches_its_accuracy_has_no_calibration_error():
    correct = np.array([True] * 8 + [False] * 2)
    assert expected_calibration_error(correct, np.full(10, 0.8)) == pytest.approx(0.0)


def test_an_overconfident_model_has_the_gap_as_calibration_error():
    correct = np.array([True, False, True, False])
    assert expected_calibration_error(correct, np.full(4, 0.9)) == pytest.approx(0.4)


def test_accuracy_per_class_precision_recall_and_the_confusion_matrix():
    labels = np.array(["maize", "maize", "wheat", "wheat"])
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    metrics = evaluate(labels, probabilities, CLASSES)
    assert metrics["n"] == 4 and metrics["accuracy"] == 0.75
    assert metrics["per_class"]["maize"] == {"precision": 1.0, "recall": 0.5,
                                             "f1": pytest.approx(2 / 3), "support": 2}
    assert metrics["per_class"]["wheat"]["precision"] == pytest.approx(2 / 3)
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert metrics["confusion_matrix"] == {"labels": CLASSES, "counts": [[1, 1], [0, 2]]}


def test_a_label_the_model_does_not_know_is_an_error_with_its_own_row():
    labels = np.array(["maize", "sorghum"])
    metrics = evaluate(labels, np.array([[0.9, 0.1], [0.6, 0.4]]), CLASSES)
    assert metrics["accuracy"] == 0.5
    assert metrics["confusion_matrix"]["labels"] == ["maize", "sorghum", "wheat"]
    assert metrics["per_class"]["wheat"]["precision"] is None  # never predicted: undefined


def test_no_photos_give_only_their_count():
    assert evaluate(np.array([]), np.empty((0, 2)), CLASSES) == {"n": 0}

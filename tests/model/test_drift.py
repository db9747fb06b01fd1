"""The drift arithmetic: reference histograms with bins fixed from the training values, and the
population stability index of a window against them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from model.drift import (
    BINS,
    categorical_histogram,
    from_json,
    numeric_histogram,
    psi,
    reference,
    to_json,
    window_psi,
)

RNG = np.random.default_rng(7)
TRAINING = RNG.normal(0.45, 0.08, 5_000)  # brightness of the training photos


def test_a_numeric_reference_has_ten_bins_of_a_tenth_each_at_its_deciles():
    histogram = numeric_histogram(TRAINING)

    assert len(histogram.fractions) == BINS and len(histogram.edges) == BINS - 1
    assert histogram.fractions == pytest.approx([0.1] * BINS, abs=1e-3)
    assert histogram.photos == len(TRAINING)


def test_repeated_values_make_fewer_bins_and_each_value_has_one():
    histogram = numeric_histogram([1.0] * 50 + [2.0] * 50)

    assert histogram.edges == (1.0, 2.0)
    assert histogram.fractions == (0.0, 0.5, 0.5)  # an edge's value goes above it


def test_a_window_from_the_training_distribution_is_stable():
    window = RNG.normal(0.45, 0.08, 2_000)

    assert window_psi(numeric_histogram(TRAINING), window) < 0.02


def test_the_very_same_values_give_zero():
    assert window_psi(numeric_histogram(TRAINING), TRAINING) == pytest.approx(0, abs=1e-6)


def test_darker_photos_are_a_major_shift():
    darker = RNG.normal(0.30, 0.08, 500)

    assert window_psi(numeric_histogram(TRAINING), darker) > 0.25


def test_a_small_shift_is_moderate():
    a_little_darker = RNG.normal(0.42, 0.08, 20_000)

    assert 0.1 < window_psi(numeric_histogram(TRAINING), a_little_darker) < 0.25


def test_empty_bins_count_as_epsilon_and_stay_finite():
    all_in_one_bin = [0.0] * 300  # below every training value: nine bins empty

    value = window_psi(numeric_histogram(TRAINING), all_in_one_bin)

    assert math.isfinite(value) and value > 0.25
    assert math.isfinite(psi([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]))


def test_psi_is_the_sum_of_each_bins_term():
    expected, actual = [0.25, 0.25, 0.5], [0.5, 0.25, 0.25]

    assert psi(expected, actual) == pytest.approx(
        0.25 * math.log(2) + 0 + 0.25 * math.log(2))


def test_predicted_crops_are_binned_by_the_models_classes():
    training = ["maize"] * 50 + ["cassava"] * 30 + ["coffee"] * 20
    histogram = categorical_histogram(training, ["cassava", "coffee", "maize", "wheat"])

    assert histogram.fractions == (0.3, 0.2, 0.5, 0.0)
    assert window_psi(histogram, training) == pytest.approx(0, abs=1e-9)
    assert window_psi(histogram, ["maize"] * 90 + ["cassava"] * 10) > 0.25


def test_a_reference_survives_its_json_file_and_leaves_out_signals_without_values():
    histograms = reference(sharpness=RNG.gamma(2, 200, 300), brightness=TRAINING[:300],
                           predictions=[], confidences=[], classes=["cassava", "maize"])

    document = to_json(histograms)
    again = from_json(json.loads(json.dumps(document)))

    assert json.loads(json.dumps(document)) == document
    assert again == histograms
    assert sorted(again) == ["brightness", "sharpness"]

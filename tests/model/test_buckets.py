"""Curation buckets from the record's signals."""

from __future__ import annotations

import pandas as pd

from model.buckets import Thresholds, buckets

ROWS = pd.DataFrame({
    "sharpness": [300.0, 20.0, 300.0, 300.0, 300.0, 300.0],
    "brightness": [0.45, 0.45, 0.10, 0.85, 0.40, 0.60],
    "clipped_fraction": [0.0, 0.0, 0.3, 0.0, 0.2, 0.2],
})


def test_blurred_is_the_least_sharp_quarter_of_the_training_photos():
    train = pd.DataFrame({"sharpness": [10.0, 20.0, 30.0, 40.0, 50.0]})
    assert Thresholds.from_training(train).blurred_below == 20.0


def test_each_photo_is_in_one_sharpness_and_one_exposure_bucket():
    found = buckets(ROWS, Thresholds(blurred_below=50.0))
    assert list(found["blurred"]) == [False, True, False, False, False, False]
    assert list(found["dark"]) == [False, False, True, False, True, False]
    assert list(found["bright"]) == [False, False, False, True, False, True]
    assert list(found["well_exposed"]) == [True, True, False, False, False, False]
    assert (found["sharp"] ^ found["blurred"]).all()
    assert (found["well_exposed"].astype(int) + found["dark"] + found["bright"] == 1).all()

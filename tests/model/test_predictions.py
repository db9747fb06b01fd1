"""A task's predictions: each photo's crop, confidence and model version, in order, BATCH at a
time; a model that fails on one photo, or cannot be loaded, costs predictions and never a batch."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from kit.photos import encode, photo_like
from model.predictions import NO_PREDICTION, OutcomePredictions, Predictor, ShippedModel
from model.runtime import BATCH, inference_session
from photo.upload import Upload, process_upload
from tests.model.tiny_models import CROPS, colour_classifier


def shipped(onnx: bytes, version: str = "7") -> ShippedModel:
    return ShippedModel(version, SimpleNamespace(value=onnx))  # what a Broadcast offers


def tensors(n: int, first: int = 0) -> list[np.ndarray]:
    return [np.asarray(photo_like(224, 224, seed=first + i)) for i in range(n)]


def test_each_tensor_gets_the_crop_of_its_highest_probability_in_order_across_batches():
    photos = tensors(BATCH + 3)
    probabilities = inference_session(colour_classifier()).run(None, {"image": np.stack(photos)})[0]

    fields = Predictor(shipped(colour_classifier())).predict(photos)

    assert [field["prediction"] for field in fields] == [CROPS[i] for i in
                                                         probabilities.argmax(axis=1)]
    np.testing.assert_allclose([field["prediction_confidence"] for field in fields],
                               probabilities.max(axis=1), rtol=1e-6)
    assert {field["model_version"] for field in fields} == {"7"}


def test_each_prediction_has_the_margin_between_its_two_most_probable_crops():
    photos = tensors(4)
    probabilities = inference_session(colour_classifier()).run(None, {"image": np.stack(photos)})[0]
    ranked = np.sort(probabilities, axis=1)

    fields = Predictor(shipped(colour_classifier())).predict(photos)

    np.testing.assert_allclose([field["prediction_margin"] for field in fields],
                               ranked[:, -1] - ranked[:, -2], rtol=1e-5, atol=1e-7)
    assert all(0 <= field["prediction_margin"] <= field["prediction_confidence"]
               for field in fields)


def test_a_photo_the_model_fails_on_gets_no_prediction_and_the_others_theirs():
    photos = tensors(5)
    for photo in photos:
        photo[0, 0, 0] = 10
    photos[2][0, 0, 0] = 250  # the model's Gather goes out of bounds on this one

    fields = Predictor(shipped(colour_classifier(fails_on_bright_corner=True))).predict(photos)

    assert fields[2] == NO_PREDICTION
    assert all(fields[i]["prediction"] in CROPS for i in (0, 1, 3, 4))


def test_bytes_that_are_no_model_give_no_predictions_and_raise_nothing():
    assert Predictor(shipped(b"not an onnx file")).predict(tensors(3)) == [NO_PREDICTION] * 3


def test_outcomes_pass_through_unchanged_and_only_processed_rows_get_a_prediction():
    uploads = [Upload(encode(photo_like(320, 240, seed=i), "jpeg"), f"photo-{i}")
               for i in range(BATCH + 2)]
    uploads.insert(4, Upload(b"no image at all", "text"))
    outcomes = [process_upload(upload, n_variants=0, max_pixels=10**8) for upload in uploads]
    predictions = OutcomePredictions(shipped(colour_classifier()))

    passed = list(predictions.through(iter(outcomes)))

    assert passed == outcomes
    for outcome in outcomes:
        row = {"image_id": outcome.image_id, "status": "processed" if outcome.ok else "rejected"}
        fields = predictions.fields_of(row)
        assert (fields["prediction"] in CROPS) == outcome.ok
    assert not outcomes[4].ok


def test_without_a_model_outcomes_pass_and_rows_get_no_prediction():
    outcome = process_upload(Upload(encode(photo_like(320, 240), "jpeg"), "photo"),
                             n_variants=0, max_pixels=10**8)
    predictions = OutcomePredictions(None)

    assert list(predictions.through([outcome])) == [outcome]
    assert predictions.fields_of({"image_id": outcome.image_id, "status": "processed"}) == \
        NO_PREDICTION

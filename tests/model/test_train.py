"""Training from a pinned snapshot: which samples it reads, what it measures, and that the same
snapshot and seed give the same metrics."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from dataset.reader import DatasetReader
from dataset.snapshots import resolve
from model.buckets import Thresholds, buckets
from model.classifier import PROBABILITIES, classes_of
from model.drift import REFERENCE_FILE, from_json, window_psi
from model.runtime import inference_session, run_batched
from model.train import SYNTHETIC
from tests.model.conftest import N_VARIANTS, SEED, SNAPSHOT
from tests.model.field_photos import DARKENED


@pytest.fixture(scope="module")
def rows(dataset):
    """The snapshot's rows, all statuses."""
    _, store = dataset
    return DatasetReader(store, resolve(store, SNAPSHOT)).manifest(status=None)


def test_training_reads_every_variant_of_train_photos_and_only_the_base_of_val_and_test(
    trained, rows
):
    samples = trained.samples
    processed = rows[rows["shard_key"].notna()]
    for split in ("val", "test"):
        mine = samples[samples["split"] == split]
        assert set(mine["variant"]) == {"base"}
        assert sorted(mine["image_id"]) == sorted(processed[processed.split == split].image_id)
    train_samples = samples[samples["split"] == "train"]
    train_ids = set(processed[processed.split == "train"].image_id)
    assert set(train_samples["image_id"]) == train_ids
    assert len(train_samples) == len(train_ids) * (1 + N_VARIANTS)
    assert set(train_samples["variant"]) == {"base", "aug0", "aug1"}


def test_no_val_or_test_photo_is_fitted(trained, rows):
    held_out = set(rows[rows.split.isin(["val", "test"])].image_id)
    fitted = trained.samples[trained.samples["split"] == "train"]
    assert held_out and not held_out & set(fitted["image_id"])


def test_rejected_files_are_not_part_of_the_data(trained, rows):
    rejected = rows[rows["reason"].notna()]
    assert list(rejected["source"]) == ["maize/notes.jpg"]
    assert not set(rejected.image_id) & set(trained.samples.image_id)
    params = trained.report["params"]
    assert params["dataset.rows"] == len(rows) - 1


def test_the_lineage_names_the_snapshot_its_version_and_a_hash_of_its_ids(trained, dataset, rows):
    root, store = dataset
    params = trained.report["params"]
    assert params["dataset.root"] == root
    assert params["dataset.snapshot"] == SNAPSHOT
    assert params["dataset.delta_version"] == resolve(store, SNAPSHOT)
    assert len(params["dataset.ids_sha256"]) == 64
    assert params["seed"] == SEED


def within_unit(value) -> bool:
    return value is None or 0.0 <= value <= 1.0


@pytest.mark.parametrize("split", ["val", "test"])
def test_each_evaluated_split_has_its_metrics_within_0_and_1(trained, split):
    metrics = trained.report["metrics"][split]
    assert metrics["n"] > 0
    for name in ("accuracy", "macro_f1", "expected_calibration_error", "mean_confidence"):
        assert 0.0 <= metrics[name] <= 1.0, name
    for values in metrics["per_class"].values():
        assert within_unit(values["precision"]) and within_unit(values["recall"])
    assert sum(map(sum, metrics["confusion_matrix"]["counts"])) == metrics["n"]


@pytest.mark.parametrize("split", ["val", "test"])
def test_the_curation_buckets_split_the_photos_two_ways(trained, split):
    metrics = trained.report["metrics"][split]
    buckets = metrics["buckets"]
    assert buckets["sharp"]["n"] + buckets["blurred"]["n"] == metrics["n"]
    exposure = ("well_exposed", "dark", "bright")
    assert sum(buckets[name]["n"] for name in exposure) == metrics["n"]
    for bucket in buckets.values():
        assert bucket["n"] == 0 or 0.0 <= bucket["accuracy"] <= 1.0


def test_the_darkened_photos_and_only_they_are_in_the_dark_bucket(trained, rows):
    processed = rows[rows["shard_key"].notna()]
    darkened = processed["source"].str.fullmatch(rf"\w+/drawn_\w+_{DARKENED + 1:02d}\.jpg")
    assert darkened.sum() == 4  # one per crop
    thresholds = Thresholds(**trained.report["bucket_thresholds"])
    assert (buckets(processed, thresholds)["dark"] == darkened).all()
    held_out = processed["split"].isin(["val", "test"])
    metrics = trained.report["metrics"]
    dark = sum(metrics[split]["buckets"]["dark"]["n"] for split in ("val", "test"))
    assert dark == (darkened & held_out).sum()


def test_the_report_says_its_accuracy_was_measured_on_synthetic_pictures(trained):
    assert trained.report["measured_on"] == SYNTHETIC == "measured on synthetic pictures"


def test_the_same_snapshot_and_seed_give_the_same_metrics_and_model_file(trained, cli_run):
    _, _, written = cli_run
    assert written["metrics"] == trained.report["metrics"]
    assert written["params"] == trained.report["params"]
    assert written["model"]["sha256"] == trained.sha256


def test_spark_computes_the_features_a_plain_loop_over_the_reader_computes(trained, dataset,
                                                                          backbone_onnx):
    _, store = dataset
    reader = DatasetReader(store, resolve(store, SNAPSHOT))
    test_rows = reader.manifest(split="test")
    tensors = [tensor for tensor, _, _ in reader.samples(test_rows)]
    expected = np.stack(list(run_batched(inference_session(backbone_onnx), tensors)))
    mine = (trained.samples["split"] == "test").to_numpy()
    np.testing.assert_allclose(trained.features[mine], expected, atol=1e-5)


def test_the_served_model_reads_the_shards_tensor_and_gives_the_measured_accuracy(
    trained, dataset
):
    _, store = dataset
    reader = DatasetReader(store, resolve(store, SNAPSHOT))
    session = inference_session(trained.onnx)
    (given,) = session.get_inputs()
    assert (given.type, given.shape[1:]) == ("tensor(uint8)", [224, 224, 3])
    assert [output.name for output in session.get_outputs()] == [PROBABILITIES]
    classes = classes_of(onnx.load_from_string(trained.onnx))
    assert classes == trained.report["model"]["classes"]
    samples = list(reader.samples(reader.manifest(split="test")))
    rows = reader.manifest(split="test").set_index("image_id")
    probabilities = session.run(None, {given.name: np.stack([t for t, _, _ in samples])})[0]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    labels = np.asarray([rows.loc[meta["image_id"], "label"] for _, _, meta in samples])
    accuracy = trained.report["metrics"]["test"]["accuracy"]
    assert np.mean(predicted == labels) == pytest.approx(accuracy)


def test_the_drift_reference_holds_the_snapshots_signals_and_the_served_answers_on_held_out_photos(
    trained, dataset, cli_run
):
    _, store = dataset
    reader = DatasetReader(store, resolve(store, SNAPSHOT))
    reference = from_json(trained.drift_reference)
    photos = reader.manifest()
    photos = photos[photos["label"].notna()]
    assert reference["sharpness"].photos == reference["brightness"].photos == len(photos)
    for signal in ("sharpness", "brightness"):
        assert window_psi(reference[signal], photos[signal]) == pytest.approx(0, abs=1e-9)
    held_out = photos[photos["split"].isin(["val", "test"])]
    session = inference_session(trained.onnx)
    tensors = np.stack([tensor for tensor, _, _ in reader.samples(held_out)])
    probabilities = session.run(None, {"image": tensors})[0]
    classes = trained.report["model"]["classes"]
    assert reference["predicted_crop"].categories == tuple(classes)
    assert reference["predicted_crop"].photos == reference["confidence"].photos == len(held_out)
    predicted = list(np.asarray(classes)[probabilities.argmax(axis=1)])
    assert window_psi(reference["predicted_crop"], predicted) == pytest.approx(0, abs=1e-9)
    assert window_psi(reference["confidence"], probabilities.max(axis=1)) < 0.01
    _, output, _ = cli_run
    assert json.loads((output / REFERENCE_FILE).read_text()) == trained.drift_reference

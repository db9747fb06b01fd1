"""What a model learns from: exactly one snapshot's processed rows, with the labels the manifest
had when it was pinned."""

from __future__ import annotations

import pytest

from dataset.manifest import Manifest
from dataset.snapshots import pin
from model.snapshot_data import DataUnavailable, ids_sha256, load
from tests.model.conftest import SNAPSHOT


def test_a_correction_pinned_later_reaches_the_later_snapshot_only(dataset, model_settings):
    root, store = dataset
    before = load(root, SNAPSHOT, model_settings.s3)
    photo = before.split("train").iloc[0]
    Manifest.of(store).relabel(photo.image_id, "sorghum")
    pin(store, "corrected")
    after = load(root, "corrected", model_settings.s3)
    again = load(root, SNAPSHOT, model_settings.s3)
    labels = {name: data.rows.set_index("image_id").loc[photo.image_id, "label"]
              for name, data in (("before", again), ("after", after))}
    assert labels == {"before": photo.label, "after": "sorghum"}
    assert after.lineage.delta_version > again.lineage.delta_version == before.lineage.delta_version
    assert again.lineage == before.lineage


def test_the_rows_are_the_processed_ones_sorted_and_hashed_by_id(dataset, model_settings):
    root, _ = dataset
    data = load(root, SNAPSHOT, model_settings.s3)
    assert list(data.rows["image_id"]) == sorted(data.rows["image_id"])
    assert data.rows["shard_key"].notna().all() and data.rows["label"].notna().all()
    assert data.lineage.rows == len(data.rows)
    assert data.lineage.ids_sha256 == ids_sha256(data.rows["image_id"][::-1])


def test_val_and_test_photos_are_read_by_their_base_tensor_only(dataset, model_settings):
    root, _ = dataset
    data = load(root, SNAPSHOT, model_settings.s3)
    wanted = data.wanted()
    for row in data.rows.itertuples():
        assert wanted[row.image_id] == (None if row.split == "train" else frozenset({"base"}))


def test_an_unknown_snapshot_is_a_sentence(dataset, model_settings):
    root, _ = dataset
    with pytest.raises(DataUnavailable, match=r"^s3://.*: no snapshot named 'nope'$"):
        load(root, "nope", model_settings.s3)

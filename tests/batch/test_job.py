"""The batch job: a folder of <crop>/<photo> files in, the dataset format and a map out."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import numpy as np
import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import get_image
from adapters.object_store import LocalStore, open_store
from adapters.s3 import make_s3_client
from batch.job import run_batch
from dataset import DatasetReader
from dataset.layout import rejected_key
from infra.processes import free_port
from infra.schemas import ensure_index, remove_index
from kit.photos import encode, exif_bytes, gps_ifd, photo_like
from model.job_champion import ModelState
from model.runtime import inference_session
from preprocessing import image_id_of
from settings import Settings
from tests.model.tiny_models import colour_classifier, served_model

pytestmark = pytest.mark.servers  # every run of the job starts a local Spark session

FARM = (41.878, -93.097)  # Iowa


@pytest.fixture(scope="module")
def field_folder(tmp_path_factory) -> Path:
    """maize/ with GPS photos, wheat/ without, a bad file, a duplicate and a top-level README."""
    root = tmp_path_factory.mktemp("img")
    (root / "maize").mkdir()
    (root / "wheat").mkdir()
    for i in range(3):
        gps = gps_ifd(FARM[0] + i / 1000, FARM[1] - i / 1000)
        jpeg = encode(photo_like(640, 480, seed=i), "jpeg", exif=exif_bytes(gps=gps))
        (root / "maize" / f"m{i}.jpg").write_bytes(jpeg)
    for i in range(2):
        (root / "wheat" / f"w{i}.png").write_bytes(encode(photo_like(300, 400, seed=10 + i), "png"))
    (root / "wheat" / "copy_of_m0.jpg").write_bytes((root / "maize" / "m0.jpg").read_bytes())
    (root / "wheat" / "notes.jpg").write_text("not a photo")
    (root / "README.md").write_text("sample photos")
    return root


LOCAL = Settings(spark_master="local[2]", spark_ui_port=free_port())


def run(folder: Path, store, spark_settings: Settings = LOCAL, **options) -> object:
    return run_batch(folder, store, spark_settings=spark_settings, n_variants=2, max_pixels=10**8,
                     shard_digits=1, split_fractions=(0.8, 0.1, 0.1), **options)


CROPS = ("maize", "wheat")


@pytest.fixture(scope="module")
def champion(tmp_path_factory) -> ModelState:
    """A champion as the registry names it: a small colour classifier of the two crops."""
    model = colour_classifier(CROPS, seed=5)
    return ModelState(served_model(tmp_path_factory.mktemp("models"), "1", model))


@pytest.fixture(scope="module")
def local_run(field_folder, tmp_path_factory, champion):
    store = LocalStore(tmp_path_factory.mktemp("dataset"))
    return store, run(field_folder, store, model=champion)


def test_the_report_counts_processed_rejected_duplicate_and_gps(local_run):
    _, report = local_run
    assert report.processed == 5
    assert dict(report.rejected) == {"unsupported_format": 1}
    assert report.duplicates == 1
    assert report.ignored == 1
    assert (report.with_gps, report.without_gps) == (3, 2)


def test_with_a_champion_each_processed_photo_has_its_prediction_on_the_stored_base_tensor(
    local_run, champion
):
    store, report = local_run
    reader = DatasetReader(store)
    rows = reader.manifest(status=None).set_index("image_id")
    session = inference_session(champion.model.path.read_bytes())
    bases = {meta["image_id"]: tensor for tensor, _, meta in reader.samples(variants=["base"])}
    probabilities = dict(zip(bases, session.run(None, {"image": np.stack(list(bases.values()))})[0],
                             strict=True))

    for image_id, answer in probabilities.items():
        row = rows.loc[image_id]
        assert (row.prediction, row.model_version) == (CROPS[answer.argmax()], "1")
        assert row.prediction_confidence == pytest.approx(answer.max(), rel=1e-6)
        second_best = np.sort(answer)[-2]
        assert row.prediction_margin == pytest.approx(answer.max() - second_best, abs=1e-6)
    rejected = rows[rows.status == "rejected"]
    assert rejected["prediction"].isna().all() and rejected["model_version"].isna().all()
    counts = rows[rows.status == "processed"]["prediction"].value_counts()
    assert report.predictions == dict(counts)
    assert report.without_prediction == 0
    assert "predictions: 5 by crop-classifier version 1 (" in "\n".join(report.lines())


def test_the_manifest_has_one_row_per_image_labelled_by_its_folder(local_run):
    store, _ = local_run
    rows = DatasetReader(store).manifest(status=None)
    assert len(rows) == 6
    assert rows["image_id"].is_unique
    assert sorted(rows[rows.status == "processed"]["label"]) == ["maize"] * 3 + ["wheat"] * 2
    rejected = rows[rows.status == "rejected"].iloc[0]
    assert (rejected.label, rejected.reason, rejected.source) == ("wheat", "unsupported_format",
                                                                  "wheat/notes.jpg")


def test_gps_comes_from_exif_and_photos_without_it_have_none(local_run):
    store, _ = local_run
    rows = DatasetReader(store).manifest()
    maize = rows[rows.label == "maize"]
    assert maize["lat"].between(FARM[0] - 0.01, FARM[0] + 0.01).all()
    assert maize["lon"].between(FARM[1] - 0.01, FARM[1] + 0.01).all()
    assert rows[rows.label == "wheat"]["lat"].isna().all()


def test_every_image_has_a_base_and_each_variant_as_224_tensors(local_run):
    store, _ = local_run
    reader = DatasetReader(store)
    samples = list(reader.samples(variants=["base", "aug0", "aug1"]))
    assert len(samples) == 5 * 3
    assert {meta["variant"] for _, _, meta in samples} == {"base", "aug0", "aug1"}
    assert all(t.shape == (224, 224, 3) and t.dtype.name == "uint8" for t, _, _ in samples)
    maize_only = list(reader.samples(reader.manifest(label="maize"), variants=["base"]))
    assert [label for _, label, _ in maize_only] == ["maize"] * 3


def test_a_rejected_photo_keeps_its_bytes_and_a_dead_letter(local_run, field_folder):
    store, _ = local_run
    rejected = DatasetReader(store).manifest(status="rejected").iloc[0]
    assert store.get_bytes(rejected.raw_key) == (field_folder / "wheat" / "notes.jpg").read_bytes()
    assert store.list_keys("rejected/") == [f"rejected/{rejected.image_id}.json"]


def test_the_map_is_written_beside_the_dataset(local_run):
    store, report = local_run
    assert report.map_url == store.url("map.html")
    assert "leaflet" in store.get_bytes("map.html").decode().lower()


def test_every_photo_has_curation_signals_a_duplicate_group_and_a_split(local_run):
    store, _ = local_run
    rows = DatasetReader(store).manifest()
    assert rows["sharpness"].gt(0).all() and rows["brightness"].between(0, 1).all()
    assert rows["phash"].str.fullmatch("[0-9a-f]{16}").all()
    assert rows["duplicate_group"].notna().all()
    assert set(rows["split"]) <= {"train", "val", "test"}
    assert sum(local_run[1].splits.values()) == 5


def test_a_rerun_rewrites_the_same_objects_and_rows(local_run, field_folder, champion):
    store, _ = local_run
    manifest_before = DatasetReader(store).manifest(status=None)
    before = {key: store.get_bytes(key) for key in store.list_keys("")}
    run(field_folder, store, model=champion)
    after = {key: store.get_bytes(key) for key in store.list_keys("")}
    data_keys = [k for k in before if k.startswith(("raw/", "shards/", "rejected/"))]
    assert sorted(k for k in after if k in data_keys or not k.startswith("manifest/")) == sorted(
        k for k in before if not k.startswith("manifest/"))
    assert all(after[k] == before[k] for k in data_keys)
    manifest_after = DatasetReader(store).manifest(status=None)
    assert manifest_after.drop(columns="variants").equals(
        manifest_before.drop(columns="variants"))


def test_the_job_writes_to_s3_and_a_rerun_adds_no_duplicates(field_folder, s3_stack):
    bucket = f"batch-{uuid.uuid4().hex[:8]}"
    make_s3_client(s3_stack.s3).create_bucket(Bucket=bucket)
    store = open_store(f"s3://{bucket}/dataset", s3_stack.s3)
    nobody = ModelState(None, "the registry has no champion of crop-classifier yet")
    report = run(field_folder, store, model=nobody)
    keys = [key for key in store.list_keys("") if not key.startswith("manifest/")]
    run(field_folder, store)
    assert [key for key in store.list_keys("") if not key.startswith("manifest/")] == keys
    assert report.processed == 5
    reader = DatasetReader.open(f"s3://{bucket}/dataset", s3_stack.s3)
    assert len(reader.manifest()) == 5
    assert len(reader.manifest_table.rows()) == 6  # with the rejected photo, once each
    assert len(list(reader.samples(variants=["base"]))) == 5
    assert report.map_url == f"s3://{bucket}/dataset/map.html"
    assert reader.manifest()["prediction"].isna().all()  # no champion: processed all the same
    assert ("predictions: none, the photos are processed without: the registry has no champion "
            "of crop-classifier yet") in report.lines()


def test_with_a_search_client_every_record_is_indexed_as_the_stream_indexes_it(
    field_folder, es_stack, tmp_path
):
    search = make_elasticsearch_client(es_stack.elasticsearch_url, es_stack.elasticsearch_auth)
    index = f"{es_stack.elasticsearch_index}-batch-{uuid.uuid4().hex[:8]}"
    ensure_index(search, index)
    try:
        store = LocalStore(tmp_path)
        report = run(field_folder, store, search=search, index=index)
        rows = DatasetReader(store).manifest(status=None)
        for row in rows.itertuples():
            document = get_image(search, index, row.image_id)
            assert document["status"] == row.status
            assert document["shard_key"] == row.shard_key
            assert document["split"] == row.split
        assert report.indexed == 6
    finally:
        remove_index(search, index)


def test_a_document_elasticsearch_refuses_is_a_dead_letter_named_by_its_file(
    es_stack, tmp_path, caplog
):
    folder = tmp_path / "img"
    (folder / "maize").mkdir(parents=True)
    named = encode(photo_like(320, 240, seed=40), "jpeg", exif=exif_bytes(make="Acme", model="X1"))
    (folder / "maize" / "named.jpg").write_bytes(named)
    (folder / "maize" / "plain.jpg").write_bytes(encode(photo_like(320, 240, seed=41), "jpeg"))
    search = make_elasticsearch_client(es_stack.elasticsearch_url, es_stack.elasticsearch_auth)
    index = f"{es_stack.elasticsearch_index}-batch-{uuid.uuid4().hex[:8]}"
    # A mapping changed by hand: camera names are numbers now, so a photo naming one is refused.
    search.indices.create(index=index, mappings={"properties": {"camera": {"type": "integer"}}})
    try:
        store = LocalStore(tmp_path / "dataset")
        with caplog.at_level(logging.WARNING, logger="batch.job"):
            report = run(folder, store, search=search, index=index)

        named_id = image_id_of(named)
        document = get_image(search, index, named_id)
        assert (document["status"], document["reason"], document["source"]) == (
            "rejected", "index_refused", "maize/named.jpg")
        letter = json.loads(store.get_bytes(rejected_key(named_id)))
        assert letter["reason"] == "index_refused" and "camera" in letter["error"]
        assert (report.processed, dict(report.rejected), report.indexed) == (
            1, {"index_refused": 1}, 1)
        assert f"dead letter {named_id} from maize/named.jpg: index_refused" in caplog.text
        rows = DatasetReader(store).manifest(status=None).set_index("image_id")
        assert rows.loc[named_id, "status"] == "processed"  # its tensors are in the dataset anyway
    finally:
        remove_index(search, index)

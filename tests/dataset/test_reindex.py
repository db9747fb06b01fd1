"""`python -m dataset reindex ROOT`: an index lost with its Elasticsearch comes back from the
dataset alone, the documents the stream wrote (ids, current labels, positions, predictions), in
bounded batches, the same however often it runs; a root that holds no dataset, or an
Elasticsearch that does not answer, is one sentence (exit 1)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import get_image, relabel
from adapters.object_store import LocalStore
from dataset.__main__ import main
from dataset.dead_letters import index_or_dead_letter
from dataset.label_corrections import CorrectionLog, LabelCorrection
from dataset.layout import rejected_key
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.reader_checks import where
from dataset.reindex import record_batches, reindex
from dataset.writer import write_group
from infra.processes import free_port
from infra.schemas import ensure_index, remove_index
from ingest_api.labels.corrections import LabelBook
from kit.photos import encode, exif_bytes, photo_like
from photo.upload import Upload, process_upload
from tests.dataset.conftest import FRACTIONS, Stream

PREDICTION = {"prediction": "maize", "prediction_confidence": 0.91, "prediction_margin": 0.62,
              "model_version": "3"}


def photo(seed: int, **facts) -> Upload:
    return Upload(encode(photo_like(160, 120, seed=seed), "jpeg"), f"kafka:t/0/{seed}", "maize",
                  device_id="phone-1", **facts)


UPLOADS = (
    photo(0, client_lat=48.85, client_lon=2.35),
    photo(1, client_lat=-1.29, client_lon=36.82),
    photo(2),
    Upload(b"field notes, not a photo", "kafka:t/0/3", "maize", device_id="phone-1"),
)


def stream_photos(store, search, index, uploads=UPLOADS, *, indexed: bool = True,
                  group: str = "t-p0-o0") -> list[str]:
    """The uploads written as one group, committed and indexed as the stream's sink does, the
    first one predicted by a model; their image ids."""
    outcomes = [process_upload(upload, n_variants=1, max_pixels=10**8) for upload in uploads]
    rows = write_group(store, "stream", group, outcomes)
    rows[0].update(PREDICTION)
    rows = ManifestWriter.of(store, FRACTIONS).commit(rows)
    if indexed:
        index_or_dead_letter(search, index, store, rows, datetime.now(UTC).isoformat())
    return [row["image_id"] for row in rows]


def correction(image_id: str, label: str) -> LabelCorrection:
    return LabelCorrection(image_id=image_id, old_label="maize", new_label=label, note=None,
                           device_id="phone-1", corrected_at=datetime.now(UTC).isoformat(),
                           request_id=None)


def documents(search, index: str, ids: list[str]) -> dict[str, dict]:
    """image id -> its document, but for `processed_at` (when it was indexed)."""
    search.indices.refresh(index=index)
    assert search.count(index=index)["count"] == len(ids)
    return {doc["_id"]: {name: value for name, value in doc["_source"].items()
                         if name != "processed_at"}
            for doc in search.mget(index=index, ids=ids)["docs"] if doc["found"]}


@pytest.fixture
def index(es_stack, monkeypatch):
    """(client, name) of an index of the test's own, made as the stack makes it, which
    `python -m dataset` (Settings from the environment) is pointed at; removed afterwards.
    Its name is outside the pattern of the stack's template (`field-images-*`): removed, it
    leaves no template behind, as when Elasticsearch lost its data."""
    name = f"reindex-test-{uuid.uuid4().hex[:8]}"
    for variable, value in replace(es_stack, elasticsearch_index=name).to_env().items():
        monkeypatch.setenv(variable, value)
    search = make_elasticsearch_client(es_stack.elasticsearch_url, es_stack.elasticsearch_auth)
    ensure_index(search, name)
    yield search, name
    remove_index(search, name)


def test_a_lost_index_comes_back_with_corrected_labels_positions_and_predictions(
    store, index, capsys
):
    search, name = index
    ids = stream_photos(store, search, name)
    LabelBook(CorrectionLog.of(store), Manifest.of(store)).correct(correction(ids[1], "wheat"))
    relabel(search, name, ids[1], "wheat")  # as PUT /images/<id>/label applies it
    before = documents(search, name, ids)
    remove_index(search, name)  # the index and its template: Elasticsearch lost its data

    assert main(["reindex", store.url("")]) == 0

    version = Manifest.of(store).version()
    assert capsys.readouterr().out == (f"reindexed version {version} of {where(store)} into "
                                       f"{name}: 4 documents indexed, 0 dead letters\n")
    after = documents(search, name, ids)
    assert after == before
    assert [after[image_id]["label"] for image_id in ids] == ["maize", "wheat", "maize", "maize"]
    assert [after[image_id].get("location") for image_id in ids] == [
        {"lat": 48.85, "lon": 2.35}, {"lat": -1.29, "lon": 36.82}, None, None]
    assert {field: after[ids[0]][field] for field in PREDICTION} == PREDICTION
    assert after[ids[3]]["status"] == "rejected"
    mapping = search.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert mapping["location"]["type"] == "geo_point"


def test_reindexing_again_changes_no_document(index, tmp_path, capsys):
    search, name = index
    store = LocalStore(tmp_path / "dataset")
    ids = stream_photos(store, search, name)

    main(["reindex", store.url("")])
    first = documents(search, name, ids)
    main(["reindex", store.url("")])

    assert documents(search, name, ids) == first
    once, twice = capsys.readouterr().out.splitlines()
    assert once == twice


def test_a_correction_the_manifest_missed_still_labels_the_document(index, tmp_path):
    search, name = index
    store = LocalStore(tmp_path / "dataset")
    ids = stream_photos(store, search, name, indexed=False)
    # Recorded, then the API failed before it relabelled the manifest row: the log is the truth.
    CorrectionLog.of(store).record(correction(ids[2], "sorghum"))

    main(["reindex", store.url("")])

    assert get_image(search, name, ids[2])["label"] == "sorghum"
    assert Manifest.of(store).rows()["label"].to_pylist().count("sorghum") == 0


def test_an_index_made_up_without_its_mapping_is_said_then_rebuilt_once_deleted(
    es_stack, index, tmp_path, capsys
):
    search, name = index
    store = LocalStore(tmp_path / "dataset")
    ids = stream_photos(store, search, name)
    remove_index(search, name)
    # The stream wrote on: Elasticsearch made an index up for its documents, without the mapping.
    ids += stream_photos(store, search, name, (photo(9, client_lat=1.0, client_lon=2.0),),
                         group="t-p0-o9")

    with pytest.raises(SystemExit) as exit:
        main(["reindex", store.url("")])

    said = capsys.readouterr().err
    assert exit.value.code == 1 and said.count("\n") == 1
    assert said.startswith(f"reindex: the index {name} has a mapping of its own, not the image "
                           "record's (")
    assert f"delete it (curl -X DELETE {es_stack.elasticsearch_url}/{name})" in said

    search.indices.delete(index=name)
    assert main(["reindex", store.url("")]) == 0
    assert len(documents(search, name, ids)) == 5
    mapping = search.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert mapping["location"]["type"] == "geo_point"


def test_a_document_elasticsearch_refuses_becomes_a_dead_letter(es_stack, tmp_path):
    store = LocalStore(tmp_path / "dataset")
    named = replace(photo(7), data=encode(photo_like(160, 120, seed=7), "jpeg",
                                          exif=exif_bytes(make="Acme", model="X1")))
    ids = stream_photos(store, None, None, (named, photo(8)), indexed=False)
    search = make_elasticsearch_client(es_stack.elasticsearch_url, es_stack.elasticsearch_auth)
    index = f"{es_stack.elasticsearch_index}-reindex-{uuid.uuid4().hex[:8]}"
    # A mapping changed by hand: camera names are numbers now, so a photo naming one is refused.
    search.indices.create(index=index, mappings={"properties": {"camera": {"type": "integer"}}})
    try:
        report = reindex(store, search, index, batch_rows=1)

        assert (report.indexed, report.dead_letters) == (1, 1)
        document = get_image(search, index, ids[0])
        assert (document["status"], document["reason"]) == ("rejected", "index_refused")
        assert json.loads(store.get_bytes(rejected_key(ids[0])))["reason"] == "index_refused"
        assert get_image(search, index, ids[1])["status"] == "processed"
    finally:
        remove_index(search, index)


def test_rows_are_read_in_batches_of_at_most_the_size_asked(tmp_path):
    stream = Stream(LocalStore(tmp_path / "dataset"))
    ids = stream.write(2, 2, 1)

    manifest = Manifest.of(stream.store)
    dataset = manifest.table().to_pyarrow_dataset(filesystem=manifest.files())
    batches = list(record_batches(dataset, batch_rows=2))

    assert all(0 < len(batch) <= 2 for batch in batches)
    assert sorted(row["image_id"] for batch in batches for row in batch) == sorted(ids)


def test_a_root_without_a_dataset_is_one_sentence(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["reindex", str(tmp_path / "nothing")])

    assert exit.value.code == 1
    assert capsys.readouterr().err == (f"reindex: no dataset at {tmp_path / 'nothing'}: the "
                                       "directory does not exist. A dataset root is the "
                                       "directory or s3://bucket/prefix that holds manifest/ "
                                       "and shards/.\n")


def test_an_elasticsearch_that_does_not_answer_is_one_sentence(tmp_path, monkeypatch, capsys):
    stream = Stream(LocalStore(tmp_path / "dataset"))
    stream.write(1)
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ELASTICSEARCH_URL", url)

    with pytest.raises(SystemExit) as exit:
        main(["reindex", stream.store.url("")])

    assert exit.value.code == 1
    assert capsys.readouterr().err == (f"reindex: Elasticsearch does not answer at {url}: start "
                                       "the stack with ./deploy.sh, or set ELASTICSEARCH_URL\n")

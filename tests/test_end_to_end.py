"""The whole path on the real local stack: POST /post_image -> Kafka -> Spark -> S3 + Elasticsearch.

The API and the streaming job run as the native deploy runs them (tests/pipeline.py), on a
topic, dataset, index and port of this module's own.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.object_store import open_store
from dataset import DatasetReader
from dataset.manifest import Manifest
from infra.stack import LocalStack
from kit.api_client import Answer
from kit.photos import encode, exif_bytes, gps_ifd, photo_like
from settings import PROJECT_ROOT
from tests.pipeline import api_client, running_pipeline

CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
PROCESSING_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def pipeline(kafka_stack, es_stack, tmp_path_factory):
    """The API and the streaming job up, on this module's own topic, bucket, index and port."""
    checkpoint = str(tmp_path_factory.mktemp("checkpoint"))
    with running_pipeline(kafka_stack, es_stack, checkpoint, "e2e") as settings:
        yield settings


def post(settings, name: str, data: bytes, **fields) -> Answer:
    return api_client(settings).post_image(data, name, **fields)


def wait_for_records(settings, image_ids) -> dict[str, dict]:
    """GET /images/<id> until every image has a record, within PROCESSING_TIMEOUT_S."""
    records: dict[str, dict] = {}
    deadline = time.monotonic() + PROCESSING_TIMEOUT_S
    while set(image_ids) - set(records) and time.monotonic() < deadline:
        for image_id in set(image_ids) - set(records):
            response = api_client(settings, timeout=10).image(image_id)
            if response.status == 200:
                records[image_id] = response.json()
        time.sleep(1)
    assert set(records) == set(image_ids), f"not processed: {set(image_ids) - set(records)}"
    return records


def manifest_occurrences(settings) -> Counter:
    """How often each image id appears in the manifest table (no de-duplication)."""
    manifest = Manifest.of(open_store(settings.dataset_root, settings.s3))
    return Counter(manifest.rows(columns=["image_id"]).column("image_id").to_pylist())


def es_documents(settings, image_ids) -> dict[str, dict]:
    client = make_elasticsearch_client(settings.elasticsearch_url)
    client.indices.refresh(index=settings.elasticsearch_index)
    found = client.mget(index=settings.elasticsearch_index, ids=list(image_ids))["docs"]
    return {doc["_id"]: doc["_source"] for doc in found if doc.get("found")}


def corpus_uploads() -> dict[str, tuple[str, dict]]:
    """Corpus path -> (label, expected values), for every corpus photo."""
    expected = json.loads((CORPUS / "expected.json").read_text())
    return {path: (path.split("/")[0], values) for path, values in expected.items()}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is absent")
def test_every_corpus_photo_comes_out_as_tensors_in_s3_and_a_document_in_elasticsearch(pipeline):
    uploads = corpus_uploads()
    posted = {}
    for path, (label, _) in uploads.items():
        response = post(pipeline, Path(path).name, (CORPUS / path).read_bytes(), label=label)
        assert response.status == 202, response.data
        posted[response.json()["image_id"]] = path
    records = wait_for_records(pipeline, posted)
    assert {record["status"] for record in records.values()} == {"processed"}

    reader = DatasetReader.open(pipeline.dataset_root, pipeline.s3)
    rows = reader.manifest().set_index("image_id")
    documents = es_documents(pipeline, posted)
    for image_id, path in posted.items():
        label, expected = uploads[path]
        row, doc = rows.loc[image_id], documents[image_id]
        assert (row.label, doc["label"], doc["status"]) == (label, label, "processed")
        if expected["lat"] is None:
            assert row.lat != row.lat and "location" not in doc  # NaN: no GPS anywhere
        else:
            assert abs(row.lat - expected["lat"]) < 1e-6 and abs(row.lon - expected["lon"]) < 1e-6
            assert abs(doc["location"]["lat"] - expected["lat"]) < 1e-6
            assert abs(doc["location"]["lon"] - expected["lon"]) < 1e-6
    every_variant = ["base", "aug0", "aug1"]  # val and test photos give only their base unasked
    samples = list(reader.samples(reader.manifest().query("image_id in @posted"), every_variant))
    assert Counter(meta["image_id"] for _, _, meta in samples) == dict.fromkeys(posted, 3)

    world = {"top_left": {"lat": 90, "lon": -180}, "bottom_right": {"lat": -90, "lon": 180}}
    client = make_elasticsearch_client(pipeline.elasticsearch_url)
    hits = client.search(index=pipeline.elasticsearch_index, size=100,
                         query={"geo_bounding_box": {"location": world}})["hits"]["hits"]
    with_gps = {i for i, path in posted.items() if uploads[path][1]["lat"] is not None}
    assert {hit["_id"] for hit in hits} == with_gps


def test_client_gps_is_used_only_for_photos_without_their_own(pipeline):
    exif_gps = encode(photo_like(320, 240, seed=1), "jpeg",
                      exif=exif_bytes(gps=gps_ifd(-1.17, 36.83)))
    no_gps = encode(photo_like(320, 240, seed=2), "png")
    ids = {}
    for name, data in (("exif.jpg", exif_gps), ("plain.png", no_gps)):
        response = post(pipeline, name, data, label="coffee", lat="10.5", lon="-20.25")
        assert response.status == 202, response.data
        ids[name] = response.json()["image_id"]
    records = wait_for_records(pipeline, ids.values())
    assert (records[ids["exif.jpg"]]["lat"], records[ids["exif.jpg"]]["lon"]) == pytest.approx(
        (-1.17, 36.83), abs=1e-5)
    assert (records[ids["plain.png"]]["lat"], records[ids["plain.png"]]["lon"]) == (10.5, -20.25)


def test_a_killed_streaming_job_comes_back_by_itself_and_loses_and_doubles_no_photo(pipeline):
    job = LocalStack(pipeline).servers["stream"]
    killed = job.process.pid()
    ids = []
    for seed in range(20):
        response = post(pipeline, f"{seed}.jpg", encode(photo_like(400, 300, seed=100 + seed),
                                                        "jpeg"), label="wheat")
        assert response.status == 202, response.data
        ids.append(response.json()["image_id"])
        if seed == 10:
            os.kill(killed, signal.SIGKILL)
    wait_for_records(pipeline, ids)  # the supervisor restarted it; it resumed from the checkpoint
    assert job.process.pid() not in (None, killed)
    occurrences = manifest_occurrences(pipeline)
    assert [occurrences[image_id] for image_id in ids] == [1] * len(ids)
    assert len(es_documents(pipeline, ids)) == len(ids)


def test_a_stopped_broker_answers_503_quickly_and_uploads_work_after_its_restart(pipeline):
    stack = LocalStack(pipeline)
    if stack.servers["kafka"].process.pid() is None:
        pytest.skip("the broker was not started by this test session; it is not ours to stop")
    photo = encode(photo_like(320, 240, seed=7), "jpeg")
    stack.down(["kafka"])
    try:
        response = post(pipeline, "while-down.jpg", photo, label="maize")
        assert response.status == 503
        assert response.headers["Retry-After"]
        assert response.json()["error"] == "kafka_unavailable"
    finally:
        stack.up(["kafka"])
    deadline = time.monotonic() + 60
    while (response := post(pipeline, "after.jpg", photo, label="maize")).status == 503:
        assert time.monotonic() < deadline, "uploads did not recover after the broker restart"
        time.sleep(1)
    assert response.status == 202, response.data
    wait_for_records(pipeline, [response.json()["image_id"]])  # the job rode out the outage


def test_a_killed_api_comes_back_by_itself(pipeline):
    api_server = LocalStack(pipeline).servers["api"]
    killed = api_server.process.pid()
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while api_server.process.pid() in (None, killed) or not api_server.answering():
        assert time.monotonic() < deadline, "the API was not started again"
        time.sleep(0.5)
    response = api_client(pipeline, timeout=10).is_alive()
    assert response.status == 200

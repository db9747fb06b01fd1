"""PUT /images/<id>/label: a label correction, recorded with its history, then applied to the
manifest row and the search document; snapshots and later commits carry it."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import document_of
from adapters.object_store import open_store
from adapters.s3 import make_s3_client
from dataset import DatasetReader
from dataset.manifest_writer import ManifestWriter
from dataset.records import manifest_row
from dataset.snapshots import pin
from infra.schemas import ensure_bucket, remove_bucket
from preprocessing.upload import Upload, process_upload
from tests.ingest_api.apps import TEST_DEVICE, running_app
from tests.preprocessing.synthetic import encode, photo_like

FRACTIONS = (0.8, 0.1, 0.1)


@pytest.fixture
def settings(es_stack, s3_stack):
    """The stack's settings with a dataset root in a bucket of the test's own."""
    bucket, s3 = f"labels-{uuid.uuid4().hex[:8]}", make_s3_client(s3_stack.s3)
    ensure_bucket(s3, bucket)
    yield replace(es_stack, s3=s3_stack.s3, dataset_root=f"s3://{bucket}/dataset")
    remove_bucket(s3, bucket)


@pytest.fixture
def client(settings):
    with running_app(settings) as app:
        yield app.test_client()


@pytest.fixture
def photo(settings):
    """A processed maize photo: its row committed to the manifest and its document indexed."""
    return write_photo(settings, seed=1)


def write_photo(settings, seed: int, *, rejected: bool = False) -> dict:
    data = b"not a photo" if rejected else encode(photo_like(160, 120, seed=seed), "jpeg")
    outcome = process_upload(Upload(data, "test", "maize"), n_variants=1, max_pixels=10**8)
    row = manifest_row(outcome, f"raw/{outcome.image_id}.jpg", None)
    store = open_store(settings.dataset_root, settings.s3)
    [row] = ManifestWriter.of(store, FRACTIONS).commit([row])
    es = make_elasticsearch_client(settings.elasticsearch_url)
    es.index(index=settings.elasticsearch_index, id=row["image_id"],
             document=document_of(row, processed_at="2026-11-23T08:00:00Z"), refresh="wait_for")
    return row


def reader(settings, **options) -> DatasetReader:
    return DatasetReader.open(settings.dataset_root, settings.s3, **options)


def test_a_correction_changes_the_label_everywhere_and_keeps_its_history(client, settings, photo):
    image_id = photo["image_id"]
    answer = client.put(f"/images/{image_id}/label", json={"label": "wheat", "note": "awns"})

    assert answer.status_code == 200
    assert answer.json["label"] == "wheat" and answer.json["previous_label"] == "maize"
    [entry] = answer.json["history"]
    assert (entry["old_label"], entry["new_label"], entry["note"]) == ("maize", "wheat", "awns")
    assert entry["device_id"] == TEST_DEVICE and entry["corrected_at"] and entry["request_id"]
    assert client.get(f"/images/{image_id}").json["label"] == "wheat"
    assert reader(settings).manifest().set_index("image_id").loc[image_id, "label"] == "wheat"


def test_every_correction_stays_in_the_history_oldest_first(client, photo):
    image_id = photo["image_id"]
    client.put(f"/images/{image_id}/label", json={"label": "wheat"})
    client.put(f"/images/{image_id}/label", json={"label": "coffee", "note": "second look"})

    history = client.get(f"/images/{image_id}/labels").json["history"]
    assert [(h["old_label"], h["new_label"]) for h in history] == [
        ("maize", "wheat"), ("wheat", "coffee")]


def test_the_next_snapshot_carries_the_correction_and_an_earlier_one_does_not(
    client, settings, photo
):
    store = open_store(settings.dataset_root, settings.s3)
    pin(store, "before")
    client.put(f"/images/{photo['image_id']}/label", json={"label": "cassava"})
    pin(store, "after")

    assert list(reader(settings, snapshot="before").manifest()["label"]) == ["maize"]
    assert list(reader(settings, snapshot="after").manifest()["label"]) == ["cassava"]


def test_a_later_commit_of_the_same_photo_keeps_the_corrected_label(client, settings, photo):
    client.put(f"/images/{photo['image_id']}/label", json={"label": "wheat"})
    store = open_store(settings.dataset_root, settings.s3)

    ManifestWriter.of(store, FRACTIONS).commit([photo])  # the batch job run again

    assert list(reader(settings).manifest()["label"]) == ["wheat"]


@pytest.mark.parametrize(("body", "code"), [
    (None, "invalid_correction"),
    ({"note": "no label"}, "invalid_correction"),
    ({"label": 7}, "invalid_correction"),
    ({"label": "Maize!"}, "invalid_label"),
    ({"label": "wheat", "note": "x" * 501}, "invalid_note"),
    ({"label": "wheat", "note": "bell\x07"}, "invalid_note"),
])
def test_a_bad_body_is_400_in_words(client, photo, body, code):
    answer = client.put(f"/images/{photo['image_id']}/label", json=body)
    assert answer.status_code == 400
    assert answer.json["error"] == code and answer.json["message"]


def test_an_unknown_image_is_404_and_a_rejected_one_409(client, settings):
    unknown = "0" * 64
    assert client.put(f"/images/{unknown}/label", json={"label": "wheat"}).status_code == 404
    rejected = write_photo(settings, seed=2, rejected=True)
    answer = client.put(f"/images/{rejected['image_id']}/label", json={"label": "wheat"})
    assert answer.status_code == 409 and answer.json["error"] == "not_processed"


def test_a_correction_needs_a_device_token(settings, photo):
    with running_app(settings) as app:
        anonymous = app.test_client(token=None)
        answer = anonymous.put(f"/images/{photo['image_id']}/label", json={"label": "wheat"})
    assert answer.status_code == 401

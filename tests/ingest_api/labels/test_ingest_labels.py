"""PUT /images/<id>/label: a label correction, recorded with its history, then applied to the
manifest row and the search document; snapshots and later commits carry it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.object_store import open_store
from dataset import DatasetReader
from dataset.image_record import PUBLIC_FIELDS
from dataset.manifest_writer import ManifestWriter
from dataset.snapshots import pin
from infra.processes import free_port
from ingest_api.records.accepted_uploads import AcceptedUploads
from kit.uploads import new_image_id
from tests.ingest_api.apps import TEST_DEVICE, running_app
from tests.ingest_api.processed_photos import FRACTIONS, own_dataset, write_photo


@pytest.fixture
def settings(es_stack, s3_stack):
    """The stack's settings with a dataset root in a bucket of the test's own."""
    with own_dataset(replace(es_stack, s3=s3_stack.s3)) as settings:
        yield settings


@pytest.fixture
def client(settings):
    with running_app(settings) as app:
        yield app.test_client()


@pytest.fixture
def photo(settings):
    """A processed maize photo: its row committed to the manifest and its document indexed."""
    return write_photo(settings, seed=1)


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


def test_the_label_the_photo_has_already_is_no_change_and_not_recorded(client, photo):
    image_id = photo["image_id"]

    same = client.put(f"/images/{image_id}/label", json={"label": "maize", "note": "sure?"})

    assert same.status_code == 200
    assert (same.json["changed"], same.json["label"]) == (False, "maize")
    assert same.json["message"] == f"image {image_id} is labelled maize already: nothing changed"
    assert same.json["history"] == []
    assert client.get(f"/images/{image_id}/labels").json["history"] == []


def test_a_correction_sent_twice_is_recorded_once(client, photo):
    image_id = photo["image_id"]

    first = client.put(f"/images/{image_id}/label", json={"label": "wheat"})
    again = client.put(f"/images/{image_id}/label", json={"label": "wheat"})

    assert (first.json["changed"], again.json["changed"]) == (True, False)
    assert len(client.get(f"/images/{image_id}/labels").json["history"]) == 1


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


def test_a_correction_keeps_the_prediction_the_client_showed(client, photo):
    image_id = photo["image_id"]
    shown = {"crop": "sorghum", "confidence": 0.62, "model_version": "4"}

    answer = client.put(f"/images/{image_id}/label", json={"label": "wheat", "prediction": shown})

    [entry] = answer.json["history"]
    assert (entry["prediction"], entry["prediction_confidence"], entry["model_version"]) == (
        "sorghum", 0.62, "4")
    assert client.get(f"/images/{image_id}/labels").json["history"] == [entry]


def test_a_correction_without_a_prediction_sent_keeps_the_records_or_none(client, settings,
                                                                          photo):
    image_id = photo["image_id"]
    recorded = {"prediction": "maize", "prediction_confidence": 0.9, "model_version": "2"}
    if "prediction" in PUBLIC_FIELDS:  # once the pipeline writes predictions into records
        make_elasticsearch_client(settings.elasticsearch_url).update(
            index=settings.elasticsearch_index, id=image_id, doc=recorded, refresh="wait_for")
    else:
        recorded = dict.fromkeys(recorded)

    [entry] = client.put(f"/images/{image_id}/label", json={"label": "wheat"}).json["history"]

    assert {name: entry[name] for name in recorded} == recorded


@pytest.mark.parametrize(("body", "code"), [
    (None, "invalid_correction"),
    ({"note": "no label"}, "invalid_correction"),
    ({"label": 7}, "invalid_correction"),
    ({"label": "Maize!"}, "invalid_label"),
    ({"label": "wheat", "note": "x" * 501}, "invalid_note"),
    ({"label": "wheat", "note": "bell\x07"}, "invalid_note"),
    ({"label": "wheat", "prediction": "maize"}, "invalid_correction"),
    ({"label": "wheat", "prediction": {"crop": "maize", "confidence": 1.5,
                                       "model_version": "3"}}, "invalid_correction"),
    ({"label": "wheat", "prediction": {"crop": "maize", "confidence": True,
                                       "model_version": "3"}}, "invalid_correction"),
    ({"label": "wheat", "prediction": {"crop": "Maize!", "confidence": 0.5,
                                       "model_version": "3"}}, "invalid_correction"),
    ({"label": "wheat", "prediction": {"crop": "maize", "confidence": 0.5}},
     "invalid_correction"),
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


def test_a_photo_still_queued_is_404_not_processed_yet(client, settings):
    queued = new_image_id()
    AcceptedUploads(settings.api_token_store).note(queued)  # as the 202 of its upload does

    answer = client.put(f"/images/{queued}/label", json={"label": "wheat"})

    assert answer.status_code == 404 and answer.json["error"] == "not_processed_yet"


def test_a_correction_needs_a_device_token(settings, photo):
    with running_app(settings) as app:
        anonymous = app.test_client(token=None)
        answer = anonymous.put(f"/images/{photo['image_id']}/label", json={"label": "wheat"})
    assert answer.status_code == 401


def test_a_correction_while_the_dataset_cannot_be_reached_is_503_with_retry_after(settings, photo):
    gone = replace(settings.s3, endpoint_url=f"http://127.0.0.1:{free_port()}")
    with running_app(replace(settings, s3=gone)) as app:
        client = app.test_client()
        answer = client.put(f"/images/{photo['image_id']}/label", json={"label": "wheat"})
    assert answer.status_code == 503
    assert answer.json["error"] == "dataset_unavailable"
    assert answer.headers["Retry-After"]

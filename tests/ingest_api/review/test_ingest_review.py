"""GET /review/queue: the predicted photos that most need a person (least certain first, then
those whose prediction is not their label, then the rest), one per near-duplicate group, the
crops taking turns; a photo leaves once a person confirmed or corrected its prediction, and
comes back when another model version predicts it. GET /review: the page."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.object_store import open_store
from dataset.label_corrections import CorrectionLog
from tests.ingest_api.apps import running_app
from tests.ingest_api.contract.test_ingest_openapi import assert_documented
from tests.ingest_api.map_index import MapIndex
from tests.ingest_api.processed_photos import own_dataset


@pytest.fixture
def photos(es_stack, s3_stack):
    """An index of the test's own and a dataset root for its label corrections."""
    index = MapIndex(replace(es_stack, s3=s3_stack.s3))
    with own_dataset(index.settings) as settings:
        index.settings = settings
        yield index
    index.remove()


@pytest.fixture
def client(photos):
    with running_app(photos.settings) as app:
        yield app.test_client()


def predicted(photos: MapIndex, crop: str, margin: float | None, *, label: str | None = None,
              group: str | None = None, version: str = "3") -> str:
    """Index a processed photo the model version predicted `crop` of, with that margin."""
    return photos.add(label=label or crop, prediction=crop, prediction_confidence=0.5,
                      prediction_margin=margin, model_version=version,
                      **({"duplicate_group": group} if group else {}))


def queue(client, query: str = "") -> dict:
    response = client.get(f"/review/queue{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids_of(answer: dict) -> list[str]:
    return [item["image_id"] for item in answer["items"]]


def test_the_least_certain_come_first_then_those_that_differ_then_the_rest(client, photos):
    sure = predicted(photos, "maize", 0.9)
    differs = predicted(photos, "wheat", 0.8, label="maize")
    hesitant = predicted(photos, "maize", 0.05)
    less_hesitant = predicted(photos, "maize", 0.15)
    unlabelled = photos.add(prediction="rice", prediction_margin=0.7, model_version="3")
    photos.add(label="maize")  # never predicted: nothing to review

    answer = queue(client)

    assert ids_of(answer) == [hesitant, less_hesitant, differs, unlabelled, sure]
    assert [item["reason"] for item in answer["items"]] == [
        "uncertain", "uncertain", "differs", "unreviewed", "unreviewed"]
    assert answer["waiting"] == 5 and answer["next_page"] is None
    first = answer["items"][0]
    assert first["record"] == f"/images/{hesitant}"
    assert first["thumbnail"] == f"/images/{hesitant}/thumbnail"
    assert (first["prediction"], first["prediction_margin"], first["model_version"]) == (
        "maize", 0.05, "3")


def test_one_photo_per_near_duplicate_group_the_one_most_needing_a_person(client, photos):
    shown = predicted(photos, "maize", 0.02, group="g1")
    predicted(photos, "maize", 0.10, group="g1")
    alone = predicted(photos, "maize", 0.12, group="g2")

    answer = queue(client)

    assert ids_of(answer) == [shown, alone]
    assert answer["waiting"] == 3  # photos: the other of g1 comes up once `shown` is reviewed


def test_the_crops_take_turns_within_each_part(client, photos):
    maize = [predicted(photos, "maize", margin) for margin in (0.01, 0.02, 0.03)]
    wheat = [predicted(photos, "wheat", margin) for margin in (0.04, 0.05)]

    assert ids_of(queue(client)) == [maize[0], wheat[0], maize[1], wheat[1], maize[2]]


def test_pages_follow_each_other(client, photos):
    expected = [predicted(photos, "maize", margin / 100) for margin in range(5)]

    first, second = queue(client, "?limit=3"), queue(client, "?limit=3&page=2")

    assert ids_of(first) + ids_of(second) == expected
    assert (first["next_page"], second["next_page"]) == (2, None)


def test_a_confirmation_or_a_correction_takes_a_photo_out_with_its_margin_recorded(
    client, photos
):
    confirmed = predicted(photos, "maize", 0.05)
    corrected = predicted(photos, "maize", 0.10)
    waiting = predicted(photos, "maize", 0.15)

    confirm = client.put(f"/images/{confirmed}/label", json={"label": "maize", "review": True})
    correct = client.put(f"/images/{corrected}/label", json={"label": "wheat", "review": True})

    assert confirm.status_code == 200 and correct.status_code == 200
    assert confirm.json["changed"] is False and confirm.json["message"].endswith("confirmed")
    [kept] = confirm.json["history"]
    assert (kept["old_label"], kept["new_label"], kept["prediction"], kept["model_version"],
            kept["prediction_margin"]) == ("maize", "maize", "maize", "3", 0.05)
    assert correct.json["history"][0]["prediction_margin"] == 0.10
    assert ids_of(queue(client)) == [waiting]


def test_a_confirmation_sent_twice_is_kept_once(client, photos):
    image_id = predicted(photos, "maize", 0.05)

    for _ in range(2):
        client.put(f"/images/{image_id}/label", json={"label": "maize", "review": True})

    log = CorrectionLog.of(open_store(photos.settings.dataset_root, photos.settings.s3))
    assert len(log.history(image_id)) == 1


def test_the_same_label_without_review_confirms_nothing(client, photos):
    image_id = predicted(photos, "maize", 0.05)

    answer = client.put(f"/images/{image_id}/label", json={"label": "maize"})

    assert answer.json["history"] == [] and ids_of(queue(client)) == [image_id]


def test_a_photo_predicted_again_by_another_version_comes_back(client, photos):
    image_id = predicted(photos, "maize", 0.05)
    client.put(f"/images/{image_id}/label", json={"label": "maize", "review": True})
    assert ids_of(queue(client)) == []

    photos.es.update(index=photos.settings.elasticsearch_index, id=image_id,
                     doc={"model_version": "4"}, refresh="wait_for")

    assert ids_of(queue(client)) == [image_id]


@pytest.mark.parametrize("query", ["?page=0", "?limit=101", "?limit=two", "?page=-1"])
def test_a_bad_page_is_400_in_words(client, photos, query):
    response = client.get(f"/review/queue{query}")

    assert response.status_code == 400
    assert response.json["error"] == "invalid_filter" and "whole number" in response.json["message"]


def test_a_review_that_is_not_a_boolean_is_400(client, photos):
    image_id = predicted(photos, "maize", 0.05)

    response = client.put(f"/images/{image_id}/label", json={"label": "maize", "review": "yes"})

    assert response.status_code == 400 and response.json["error"] == "invalid_correction"


def test_the_queue_needs_a_device_token_and_the_page_does_not(photos):
    with running_app(photos.settings) as app:
        anonymous = app.test_client(token=None)
        assert anonymous.get("/review/queue").status_code == 401
        page = anonymous.get("/review")
    assert page.status_code == 200 and b"Review predictions" in page.data


def test_the_answers_keep_the_contract(client, photos):
    predicted(photos, "maize", 0.05, label="wheat")
    spec = client.get("/openapi.json").get_json()

    assert_documented(spec, "get", "/review/queue", client.get("/review/queue"))
    assert_documented(spec, "get", "/review/queue", client.get("/review/queue?limit=0"))

"""A photo sent again: answered at once 200 "duplicate" with its record and the way to correct
its label when the pipeline has recorded it; accepted again (the stream counts the copy) when it
is still queued or its record cannot be looked up."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import pytest

from infra.processes import free_port
from kit.uploads import unique_jpeg
from tests.ingest_api.apps import running_app


def post(client, data: bytes, **fields):
    return client.post("/post_image", data={"file": (io.BytesIO(data), "again.jpg"), **fields})


def image_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_processed_photo_sent_again_is_200_duplicate_with_its_record_and_nothing_is_sent(
    client, topic, indexed
):
    photo = unique_jpeg()
    image_id = indexed(image_id=image_id_of(photo), status="processed", label="wheat")
    before = topic.highwaters()

    response = post(client, photo, label="maize")

    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["status"], answer["image_id"]) == ("duplicate", image_id)
    assert answer["record"]["label"] == "wheat"
    assert answer["record"]["status"] == "processed"
    assert answer["correct_label"] == {"method": "PUT", "href": f"/images/{image_id}/label"}
    assert "already in the dataset, labelled wheat (you sent maize)" in answer["message"]
    assert f"PUT /images/{image_id}/label" in answer["message"]
    assert topic.highwaters() == before


def test_a_rejected_photo_sent_again_is_200_duplicate_saying_it_was_rejected(client, indexed):
    photo = unique_jpeg()
    indexed(image_id=image_id_of(photo), status="rejected", reason="storage_refused",
            error="S3 said 400")

    answer = post(client, photo).get_json()

    assert answer["status"] == "duplicate"
    assert answer["record"]["status"] == "rejected"
    assert "rejected (storage_refused)" in answer["message"]
    assert "S3" not in answer["message"]


def test_a_photo_still_queued_is_accepted_again_for_the_stream_to_count(client, topic):
    photo = unique_jpeg()

    first, second = post(client, photo), post(client, photo, label="maize")

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.get_json()["offset"] != first.get_json()["offset"] or (
        second.get_json()["partition"] != first.get_json()["partition"])


@pytest.mark.timeout(60)
def test_with_elasticsearch_unreachable_a_photo_is_accepted_as_any_other(ingest_settings):
    settings = replace(ingest_settings, elasticsearch_url=f"http://127.0.0.1:{free_port()}")
    with running_app(settings) as app:
        responses = [post(app.test_client(), unique_jpeg()) for _ in range(2)]

    assert [response.status_code for response in responses] == [202, 202]

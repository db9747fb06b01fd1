"""GET /images/<id> of a photo accepted but not recorded yet: 404 not_processed_yet, whichever
worker accepted it, and so are its thumbnail and tensors; an id nobody uploaded stays 404
not_found."""

from __future__ import annotations

import io
import sqlite3
import time

import pytest

from ingest_api.records.accepted_uploads import REMEMBER_S, AcceptedUploads
from kit.uploads import new_image_id, unique_jpeg
from tests.ingest_api.apps import running_app
from tests.ingest_api.contract.test_ingest_openapi import assert_documented


def accepted(client) -> str:
    response = client.post("/post_image", data={"file": (io.BytesIO(unique_jpeg()), "q.jpg")})
    assert response.status_code == 202
    return response.get_json()["image_id"]


def test_a_queued_photo_is_404_not_processed_yet_at_the_202s_location(client):
    response = client.post("/post_image", data={"file": (io.BytesIO(unique_jpeg()), "q.jpg")})

    record = client.get(response.headers["Location"])

    assert record.status_code == 404
    assert record.get_json()["error"] == "not_processed_yet"
    assert "waits for the pipeline" in record.get_json()["message"]


@pytest.mark.parametrize("part", ["thumbnail", "tensors/base.png"])
def test_a_queued_photos_thumbnail_and_tensors_are_404_not_processed_yet(client, part):
    image_id = accepted(client)

    response = client.get(f"/images/{image_id}/{part}")

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_processed_yet"
    assert_documented(client.get("/openapi.json").get_json(), "get",
                      f"/images/{{image_id}}/{part.replace('base', '{variant}')}", response)
    unknown = client.get(f"/images/{new_image_id()}/{part}")
    assert (unknown.status_code, unknown.get_json()["error"]) == (404, "not_found")


def test_another_worker_sharing_the_token_store_knows_it_is_queued(client, ingest_settings):
    image_id = accepted(client)

    with running_app(ingest_settings) as other_worker:
        record = other_worker.test_client().get(f"/images/{image_id}")

    assert record.get_json()["error"] == "not_processed_yet"


def test_an_id_nobody_uploaded_is_404_not_found_saying_so(client):
    image_id = new_image_id()

    record = client.get(f"/images/{image_id}")

    assert record.status_code == 404
    assert record.get_json()["error"] == "not_found"
    assert "no upload of it was accepted in the last 24 hours" in record.get_json()["message"]


def test_an_upload_older_than_the_memory_is_forgotten(client, ingest_settings):
    image_id = new_image_id()
    AcceptedUploads(ingest_settings.api_token_store).note(image_id)
    with sqlite3.connect(ingest_settings.api_token_store) as database:  # a day and a minute ago
        database.execute("UPDATE accepted_uploads SET accepted_at = ? WHERE image_id = ?",
                         (time.time() - REMEMBER_S - 60, image_id))

    assert client.get(f"/images/{image_id}").get_json()["error"] == "not_found"

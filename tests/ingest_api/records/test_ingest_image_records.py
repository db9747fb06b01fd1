"""GET /images/<id>: the pipeline's record of an upload, from Elasticsearch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra.processes import free_port
from ingest_api.records.image_records import public_record
from kit.uploads import new_image_id
from tests.ingest_api.apps import running_app


def test_a_processed_image_is_200_with_its_record(es_client, indexed):
    image_id = indexed(
        status="processed",
        label="maize",
        lat=45.07,
        lon=7.68,
        captured_at="2024-06-01T12:30:00+02:00",
        format="jpeg",
        width=640,
        height=480,
        raw_key="raw/5f/5f3a.jpg",
        shard_key="shards/shard-000001.tar",
    )

    response = es_client.get(f"/images/{image_id}")

    assert response.status_code == 200
    record = response.get_json()
    assert record["image_id"] == image_id
    assert record["status"] == "processed"
    assert record["label"] == "maize"
    assert (record["lat"], record["lon"]) == (45.07, 7.68)
    assert record["captured_at"] == "2024-06-01T12:30:00+02:00"
    assert record["shard_key"] == "shards/shard-000001.tar"
    assert record["raw_key"] == "raw/5f/5f3a.jpg"
    assert "reason" not in record and "thumbnail" not in record


def test_a_rejected_image_is_200_with_its_reason(es_client, indexed):
    image_id = indexed(status="rejected", reason="corrupt", error="OSError('truncated')")

    record = es_client.get(f"/images/{image_id}").get_json()

    assert (record["status"], record["reason"]) == ("rejected", "corrupt")
    assert "error" not in record


def test_a_rejection_by_the_core_says_why_in_its_own_words(es_client, indexed):
    image_id = indexed(status="rejected", reason="corrupt",
                       error="the image is damaged and cannot be decoded")

    record = es_client.get(f"/images/{image_id}").get_json()

    assert record["message"] == "the image is damaged and cannot be decoded"


def test_other_rejections_keep_their_internals_out_of_the_message(es_client, indexed):
    image_id = indexed(status="rejected", reason="processing_error",
                       error="KeyError('tile')")

    record = es_client.get(f"/images/{image_id}").get_json()

    assert "KeyError" not in record["message"] and "tell an operator" in record["message"]


def test_an_unknown_image_is_json_404(es_client):
    response = es_client.get(f"/images/{new_image_id()}")

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_upper_case_hex_finds_the_same_image(es_client, indexed):
    image_id = indexed(status="processed", label="soy")

    assert es_client.get(f"/images/{image_id.upper()}").get_json()["image_id"] == image_id


@pytest.mark.parametrize(
    "bad_id", ["abc", "g" * 64, "a" * 63, "a" * 65, "a" * 63 + "-", "%20" + "a" * 63]
)
def test_an_id_that_is_not_64_hex_characters_is_400(es_client, bad_id):
    response = es_client.get(f"/images/{bad_id}")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_image_id"


@pytest.mark.timeout(30)
def test_elasticsearch_unreachable_is_503_with_retry_after(stack_settings):
    settings = replace(stack_settings, elasticsearch_url=f"http://127.0.0.1:{free_port()}")
    with running_app(settings) as app:
        response = app.test_client().get(f"/images/{new_image_id()}")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"] == "elasticsearch_unavailable"


def test_a_document_not_yet_processed_is_not_shown():
    assert public_record({"image_id": "x", "status": "queued"}) is None

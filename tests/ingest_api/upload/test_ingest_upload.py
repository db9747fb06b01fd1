"""POST /post_image of a good photo: 202 once Kafka has it; the message is what the stream reads."""

from __future__ import annotations

import hashlib
import io

import pytest

from kit.uploads import corpus_photo, jpeg
from photo.messages import upload_from_message
from tests.ingest_api.apps import TEST_DEVICE


def post(client, data: bytes, filename: str = "photo.jpg", **fields):
    return client.post("/post_image", data={"file": (io.BytesIO(data), filename), **fields})


def test_a_jpeg_is_accepted_and_is_on_the_topic_at_the_returned_offset(client, topic):
    photo = jpeg(seed=1)

    response = post(client, photo, label="maize")

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "accepted"
    assert body["topic"] == topic.topic
    assert body["image_id"] == hashlib.sha256(photo).hexdigest()
    record = topic.record_at(body["partition"], body["offset"])
    assert record.key == body["image_id"].encode()
    assert record.value == photo
    assert ("label", b"maize") in record.headers


def test_a_202_names_the_url_of_the_photos_record(client):
    response = post(client, jpeg(seed=5))

    assert response.headers["Location"] == f"/images/{response.get_json()['image_id']}"


def test_the_facts_from_the_form_travel_as_headers_the_stream_can_decode(client, topic):
    response = post(
        client,
        jpeg(seed=2),
        filename="IMG_0042.jpg",
        label="wheat",
        lat="45.07",
        lon="-7.5",
        captured_at="2024-06-01T12:30:00+02:00",
    )

    assert response.status_code == 202
    body = response.get_json()
    record = topic.record_at(body["partition"], body["offset"])
    upload = upload_from_message(record.value, record.headers, source="kafka")
    assert (upload.label, upload.device_id) == ("wheat", TEST_DEVICE)
    assert (upload.client_lat, upload.client_lon) == (45.07, -7.5)
    assert upload.client_captured_at == "2024-06-01T12:30:00+02:00"  # the local time too


def test_a_fact_the_client_did_not_send_is_not_a_header(client, topic):
    body = post(client, jpeg(seed=3)).get_json()

    record = topic.record_at(body["partition"], body["offset"])
    assert {name for name, _ in record.headers} == {"device_id", "request_id"}


def test_the_request_id_travels_with_the_photo_for_the_streams_log_lines(client, topic):
    response = client.post("/post_image", data={"file": (io.BytesIO(jpeg(seed=4)), "p.jpg")},
                           headers={"X-Request-ID": "phone-7-upload-0001"})

    body = response.get_json()
    record = topic.record_at(body["partition"], body["offset"])
    upload = upload_from_message(record.value, record.headers, source="kafka")
    assert upload.request_id == response.headers["X-Request-ID"] == "phone-7-upload-0001"


def test_the_same_bytes_twice_get_the_same_image_id(client):
    photo = jpeg(seed=4)

    first = post(client, photo).get_json()
    second = post(client, photo).get_json()

    assert first["image_id"] == second["image_id"]


def test_the_format_is_judged_by_content_not_by_name_or_declared_type(client):
    response = client.post(
        "/post_image",
        data={"file": (io.BytesIO(jpeg(seed=5)), "notes.txt", "text/plain")},
    )

    assert response.status_code == 202


@pytest.mark.parametrize("photo", ["gps/DSCN0010.jpg", "orientation/landscape_6.jpg"])
def test_a_camera_photo_from_the_corpus_is_accepted(client, topic, photo):
    data = corpus_photo(photo)

    body = post(client, data).get_json()

    assert topic.record_at(body["partition"], body["offset"]).value == data


def test_a_full_size_phone_photo_over_one_megabyte_is_accepted(client, topic):
    data = corpus_photo("mobile/HMD_Nokia_8.3_5G.jpg")
    assert len(data) > 1024 * 1024

    response = post(client, data, label="soy")

    assert response.status_code == 202
    body = response.get_json()
    assert topic.record_at(body["partition"], body["offset"]).value == data

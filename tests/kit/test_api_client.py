"""kit/api_client.py against the real server: `python -m ingest_api` (gunicorn, as deployed) on
a free port, over a topic of this module's own and the session's Elasticsearch and S3.

What the client promises: each operation reaches its route as the API documents it, every
answer comes back (status, headers, body) whatever its status, and only a request that gets no
answer raises.
"""

from __future__ import annotations

import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from infra.processes import free_port
from infra.schemas import ensure_topic, remove_topics
from kit.api_client import ApiClient, Unanswered, upload_form
from kit.uploads import jpeg
from tests.ingest_api.apps import device_token
from tests.ingest_api.gunicorn import internal_url, serving
from tests.ingest_api.topic import TopicReader

UNKNOWN = "0" * 64


@pytest.fixture(scope="module")
def settings(kafka_stack, es_stack, tmp_path_factory):
    """gunicorn's settings, on a free port and a topic of this module's own, while it runs."""
    settings = replace(kafka_stack, kafka_topic=f"api-client-test-{uuid.uuid4().hex[:8]}",
                       api_host="127.0.0.1", api_internal_port=free_port())
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    with serving(settings, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"):
        yield settings
    remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])


@pytest.fixture(scope="module")
def api(settings) -> ApiClient:
    """The client of a device with a token in the store the server reads."""
    return ApiClient(internal_url(settings), device_token(settings.api_token_store))


@pytest.fixture
def topic(settings) -> TopicReader:
    return TopicReader(settings.kafka_bootstrap_servers, settings.kafka_topic)


def test_post_image_sends_the_photo_as_the_forms_file_and_the_facts_as_its_fields(api, topic):
    photo = jpeg(seed=501)

    answer = api.post_image(photo, "p.jpg", label="rice", lat=45.07, lon=7.68)

    assert answer.status == 202, answer.text
    record = topic.record_at(answer.json()["partition"], answer.json()["offset"])
    assert record.value == photo
    assert {("label", b"rice"), ("client_lat", b"45.07"), ("client_lon", b"7.68")} <= set(
        record.headers)


def test_classify_sends_the_photo_as_the_forms_file(api):
    """The form is read before the model is asked: this server has none, so a photo sent
    as the form's file gets the model's 503, where a form without one would get a 400."""
    answer = api.classify(jpeg(seed=502))

    assert answer.status == 503
    assert answer.json()["error"] in {"no_model", "model_unavailable"}


def test_an_error_is_an_answer_with_its_status_headers_and_json_body(api):
    answer = api.image("not-an-id")

    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"  # headers ignore case
    assert answer.json()["error"] == "invalid_image_id"
    assert answer.json()["request_id"] == answer.headers["X-Request-ID"]


def test_without_a_token_the_api_answers_401(api):
    answer = replace(api, token=None).image(UNKNOWN)

    assert (answer.status, answer.json()["error"]) == (401, "missing_token")


def test_the_clients_headers_go_with_every_request_and_a_requests_own_override_them(api):
    phone = replace(api, headers={"X-Request-ID": "kit-phone-0001"})

    assert phone.is_alive().headers["X-Request-ID"] == "kit-phone-0001"
    again = phone.request("GET", "/is_alive", headers={"X-Request-ID": "kit-phone-0002"})
    assert again.headers["X-Request-ID"] == "kit-phone-0002"


def test_an_unknown_photo_is_404_to_its_lookup_and_its_correction_and_has_no_labels(api):
    assert api.image(UNKNOWN).status == 404
    assert api.correct_label(UNKNOWN, "wheat", note="awns").status == 404
    assert api.labels(UNKNOWN).json()["history"] == []


def test_the_lists_take_their_query_as_keywords(api):
    images = api.images(device="mine", per_page=5)
    queue = api.review_queue(limit=5)
    refused = api.images(device="mine", per_page=500)

    assert images.status == 200, images.text
    assert queue.status == 200, queue.text
    assert (refused.status, refused.json()["error"]) == (400, "invalid_filter")


def test_the_probes_contract_and_metrics_answer(api):
    assert api.is_alive().json()["status"] == "ok"
    assert api.readyz().json() == {"status": "ready"}
    assert api.openapi().json()["openapi"].startswith("3.1")
    assert "ingest_api_requests_total" in api.metrics().text


def test_request_sends_what_no_operation_would(api):
    answer = api.request("POST", "/post_image", body=b"{}",
                         headers={"Content-Type": "application/json"})

    assert (answer.status, answer.json()["error"]) == (400, "not_multipart")


def test_kept_connections_serve_several_threads(api):
    pooled = replace(api, connections=2)

    with ThreadPoolExecutor(4) as threads:
        statuses = set(threads.map(lambda _: pooled.is_alive().status, range(12)))

    assert statuses == {200}


def test_nothing_listening_raises_unanswered():
    with pytest.raises(Unanswered):
        ApiClient(f"http://127.0.0.1:{free_port()}").is_alive()


def test_a_server_that_never_answers_raises_unanswered_after_the_timeout():
    with socket.create_server(("127.0.0.1", 0)) as hung:
        started = time.monotonic()
        with pytest.raises(Unanswered):
            ApiClient(f"http://127.0.0.1:{hung.getsockname()[1]}", timeout=0.5).is_alive()
        assert time.monotonic() - started < 5


def test_an_upload_form_is_the_facts_then_the_file_whose_part_has_the_type_given_or_none():
    body, content_type = upload_form(b"JPEG", "p.jpg", label="maize", lat=1.5)
    typed, _ = upload_form(b"JPEG", "p.jpg", "image/jpeg")

    boundary = content_type.removeprefix("multipart/form-data; boundary=")
    parts = body.split(f"--{boundary}".encode())[1:-1]
    assert [part.split(b"\r\n")[1] for part in parts] == [
        b'Content-Disposition: form-data; name="label"',
        b'Content-Disposition: form-data; name="lat"',
        b'Content-Disposition: form-data; name="file"; filename="p.jpg"',
    ]
    assert parts[2].endswith(b'filename="p.jpg"\r\n\r\nJPEG\r\n')
    assert b"Content-Type: image/jpeg\r\n\r\nJPEG" in typed

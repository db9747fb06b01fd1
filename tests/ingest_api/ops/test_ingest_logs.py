"""The API's log, as the real server writes it: one JSON line per accepted upload, so grepping a
request id finds the API's line and then the stream's (docs/operations.md)."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from infra.processes import free_port
from kit.api_client import ApiClient
from kit.photos import encode, photo_like
from kit.uploads import jpeg
from tests.ingest_api.apps import device_token
from tests.ingest_api.gunicorn import internal_url, serving


@pytest.fixture(scope="module")
def served(ingest_settings, tmp_path_factory):
    """gunicorn as in production, and the file its output goes to."""
    settings = replace(ingest_settings, api_host="127.0.0.1", api_internal_port=free_port())
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with serving(settings, log):
        yield internal_url(settings), log


def lines_with(log, text: str, timeout: float = 5.0) -> list[dict]:
    """The log's JSON lines that contain `text`, once there is one."""
    deadline = time.monotonic() + timeout
    while True:
        found = [json.loads(line) for line in log.read_text().splitlines() if text in line]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.timeout(120)
def test_an_accepted_upload_is_one_json_line_with_its_request_id_device_size_and_offset(
    served, ingest_settings, topic
):
    url, log = served
    token = device_token(ingest_settings.api_token_store)
    photo = jpeg(seed=31)
    phone = ApiClient(url, token, timeout=60, headers={"X-Request-ID": "phone-9-log-0001"})

    answer = phone.post_image(photo, "p.jpg", label="rice")
    status, body = answer.status, answer.json()

    assert status == 202, body
    record = topic.record_at(body["partition"], body["offset"])
    device = dict(record.headers)["device_id"].decode()
    [line] = lines_with(log, "phone-9-log-0001")
    assert line == {
        "timestamp": line["timestamp"],
        "level": "INFO",
        "logger": "ingest_api.upload.routes",
        "message": f"accepted {body['image_id']} ({len(photo)} bytes) from device {device} at "
                   f"{body['topic']}/{body['partition']}/{body['offset']}",
        "request_id": "phone-9-log-0001",
        "image_id": body["image_id"],
        "device_id": device,
        "size_bytes": len(photo),
        "topic": body["topic"],
        "partition": body["partition"],
        "offset": body["offset"],
    }


@pytest.mark.timeout(120)
def test_a_png_without_exif_leaves_no_bare_line_of_the_exif_library(served, ingest_settings):
    url, log = served
    token = device_token(ingest_settings.api_token_store)
    phone = ApiClient(url, token, timeout=60, headers={"X-Request-ID": "phone-9-png-0001"})

    answer = phone.post_image(encode(photo_like(320, 240, seed=32), "png"), "p.jpg")
    status, body = answer.status, answer.json()

    assert status == 202, body
    assert lines_with(log, "phone-9-png-0001")
    assert "does not have exif" not in log.read_text()

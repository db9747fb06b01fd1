"""The real server: `python -m ingest_api` (gunicorn, gthread) on a free port, over real sockets.

These talk to gunicorn directly, on its internal port; tests/infra/test_nginx.py goes through
the nginx in front of it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra.processes import free_port
from kit.api_client import ApiClient
from kit.uploads import jpeg
from tests.ingest_api.apps import device_token
from tests.ingest_api.gunicorn import internal_url, serving

TWENTY_FIVE_MB = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def api(ingest_settings, tmp_path_factory):
    """gunicorn started with the environment, as in production, called with the session's test
    device token, in the store the server reads."""
    settings = replace(ingest_settings, api_host="127.0.0.1", api_internal_port=free_port())
    with serving(settings, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"):
        yield ApiClient(internal_url(settings), device_token(ingest_settings.api_token_store),
                        timeout=60)


def post_whole(api: ApiClient, data: bytes, **fields) -> tuple[int, dict]:
    """POST a multipart form built by hand, the whole of it sent before the answer is read."""
    boundary = "ingest-api-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = api.request("POST", "/post_image", body=b"".join(parts),
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    return answer.status, answer.json()


@pytest.mark.timeout(120)
def test_gunicorn_accepts_a_photo_and_it_is_on_the_topic(api, topic):
    photo = jpeg(seed=21)

    status, body = post_whole(api, photo, label="rice")

    assert status == 202, body
    record = topic.record_at(body["partition"], body["offset"])
    assert record.value == photo
    assert ("label", b"rice") in record.headers


@pytest.mark.timeout(120)
def test_gunicorn_answers_25_mb_with_json_413_to_a_client_that_sends_everything_first(
    api, topic
):
    before = topic.highwaters()

    status, body = post_whole(api, b"\xff\xd8\xff" + bytes(TWENTY_FIVE_MB))

    assert (status, body["error"]) == (413, "too_large")
    assert topic.highwaters() == before


@pytest.mark.timeout(120)
def test_gunicorn_answers_25_mb_with_json_413_to_the_kit_client(api):
    big = b"\xff\xd8\xff" + bytes(TWENTY_FIVE_MB)

    response = api.post_image(big, "big.jpg")

    assert response.status == 413
    assert response.json()["error"] == "too_large"


@pytest.mark.timeout(60)
def test_gunicorn_is_ready_and_alive_after_all_that(api):
    assert api.readyz().json() == {"status": "ready"}
    assert api.is_alive().json()["status"] == "ok"

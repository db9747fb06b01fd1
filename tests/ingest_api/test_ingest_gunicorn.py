"""The real server: `python -m ingest_api` (gunicorn, gthread) on a free port, over real sockets.

These talk to gunicorn directly, on its internal port; tests/infra/test_nginx.py goes through
the nginx in front of it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
import requests

from infra.processes import free_port
from kit.uploads import jpeg
from tests.ingest_api.apps import device_token
from tests.ingest_api.gunicorn import internal_url, serving

TWENTY_FIVE_MB = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def server_url(ingest_settings, tmp_path_factory):
    """The base URL of gunicorn started with the environment, as in production."""
    settings = replace(ingest_settings, api_host="127.0.0.1", api_internal_port=free_port())
    with serving(settings, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"):
        yield internal_url(settings)


@pytest.fixture(scope="module")
def auth(ingest_settings) -> dict[str, str]:
    """The header of the session's test device token, in the store the server reads."""
    return {"Authorization": f"Bearer {device_token(ingest_settings.api_token_store)}"}


def post_with_urllib(url: str, data: bytes, headers: dict, **fields) -> tuple[int, dict]:
    """POST a multipart form with the standard library, which sends the whole body first."""
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
    request = urllib.request.Request(
        f"{url}/post_image",
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.timeout(120)
def test_gunicorn_accepts_a_photo_and_it_is_on_the_topic(server_url, auth, topic):
    photo = jpeg(seed=21)

    status, body = post_with_urllib(server_url, photo, auth, label="rice")

    assert status == 202, body
    record = topic.record_at(body["partition"], body["offset"])
    assert record.value == photo
    assert ("label", b"rice") in record.headers


@pytest.mark.timeout(120)
def test_gunicorn_answers_25_mb_with_json_413_to_a_client_that_sends_everything_first(
    server_url, auth, topic
):
    before = topic.highwaters()

    status, body = post_with_urllib(server_url, b"\xff\xd8\xff" + bytes(TWENTY_FIVE_MB), auth)

    assert (status, body["error"]) == (413, "too_large")
    assert topic.highwaters() == before


@pytest.mark.timeout(120)
def test_gunicorn_answers_25_mb_with_json_413_to_requests(server_url, auth):
    big = b"\xff\xd8\xff" + bytes(TWENTY_FIVE_MB)

    response = requests.post(
        f"{server_url}/post_image", files={"file": ("big.jpg", big)}, headers=auth
    )

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


@pytest.mark.timeout(60)
def test_gunicorn_is_ready_and_alive_after_all_that(server_url):
    assert requests.get(f"{server_url}/readyz", timeout=10).json() == {"status": "ready"}
    assert requests.get(f"{server_url}/is_alive", timeout=10).json()["status"] == "ok"

"""Answers are written for the person using the API; details go to the log, under a request id."""

from __future__ import annotations

import io
import re

import pytest

from kit.uploads import jpeg, png_bomb

# What must never reach a client: object reprs, addresses, exception class names, a library's own
# limits (Pillow's bomb limit is 178,956,970 pixels), the broker's address.
INTERNALS = re.compile(
    r"0x[0-9a-f]{6,}|<[\w.]+ object|BytesIO|Error\(|Exception|178,?956,?970|127\.0\.0\.1|:\d{4,5}"
)


def post_file(client, data: bytes):
    return client.post("/post_image", data={"file": (io.BytesIO(data), "upload.png")})


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # a PNG signature and nothing of a PNG after it
        b"\xff\xd8\xff" + b"\x13" * 64,
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32,
        b"II*\x00" + b"\xff" * 32,
    ],
    ids=["png", "jpeg", "webp", "tiff"],
)
def test_a_damaged_header_is_answered_in_words_without_internals(client, data):
    response = post_file(client, data)

    assert response.status_code == 422
    assert response.get_json()["error"] == "corrupt"
    assert not INTERNALS.search(response.get_json()["message"]), response.get_json()


def test_a_decompression_bomb_is_refused_with_our_cap_not_the_librarys(client):
    response = post_file(client, png_bomb())

    body = response.get_json()
    assert (response.status_code, body["error"]) == (422, "too_many_pixels")
    assert "100,000,000" in body["message"]
    assert not INTERNALS.search(body["message"]), body


def test_a_broker_outage_is_answered_without_the_brokers_address(kafka_down_client):
    body = post_file(kafka_down_client, jpeg(seed=31)).get_json()

    assert body["error"] == "kafka_unavailable"
    assert not INTERNALS.search(body["message"]), body


def test_every_answer_carries_a_request_id_and_every_error_body_too(client):
    ok = client.get("/is_alive")
    refused = post_file(client, b"not an image")

    assert re.fullmatch(r"[0-9a-f]{32}", ok.headers["X-Request-ID"])
    assert refused.get_json()["request_id"] == refused.headers["X-Request-ID"]
    assert refused.headers["X-Request-ID"] != ok.headers["X-Request-ID"]


def test_a_well_formed_request_id_from_the_proxy_is_kept_and_a_malformed_one_replaced(client):
    kept = client.get("/no/such/page", headers={"X-Request-ID": "abc123def456"})
    replaced = client.get("/no/such/page", headers={"X-Request-ID": "<script>" * 20})

    assert kept.get_json()["request_id"] == "abc123def456"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.get_json()["request_id"])


def test_an_unknown_image_is_a_json_404_from_the_one_error_mapping(es_client):
    response = es_client.get(f"/images/{'0' * 64}")

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert response.get_json()["request_id"]

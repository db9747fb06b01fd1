"""The running API's real answers keep its contract, formats checked (date-time and the rest).

nginx, gunicorn and the streaming job run as deployed (tests/pipeline.py). Photos are posted to
the public port and followed until processed or rejected; every answer, successes and errors,
is validated against the contract the same port serves, with jsonschema's FormatChecker on.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from kit.api_client import Answer, ApiClient
from kit.field_messages import bad_message, produce
from kit.photos import encode, exif_bytes, gps_ifd, photo_like
from kit.uploads import gif, truncated_jpeg
from settings import PROJECT_ROOT
from tests.ingest_api.contract.test_ingest_openapi import assert_headers_documented
from tests.pipeline import api_client, running_pipeline

CONTRACT = "urn:contract"
PROCESSING_TIMEOUT_S = 300
CORPUS_PHOTO = PROJECT_ROOT.parent / "shared" / "corpus" / "gps" / "DSCN0010.jpg"
FORMATS = FormatChecker()


@pytest.fixture(scope="module")
def api(kafka_stack, es_stack, tmp_path_factory):
    """The public address of nginx, the API and the stream, on this module's own topic."""
    checkpoint = str(tmp_path_factory.mktemp("checkpoint"))
    with running_pipeline(kafka_stack, es_stack, checkpoint, "contract") as settings:
        yield settings


@pytest.fixture(scope="module")
def client(api) -> ApiClient:
    """The public address, as the session's test device."""
    return api_client(api, timeout=60)


@pytest.fixture(scope="module")
def spec(client) -> dict:
    response = client.openapi()
    assert response.status == 200
    return response.json()


def assert_documented(spec: dict, method: str, path: str, response: Answer) -> None:
    """The answer's status and headers (with their values) are documented for the operation,
    and a JSON body fits its schema with every format checked."""
    answers = spec["paths"][path][method]["responses"]
    status = str(response.status)
    assert status in answers, f"{method} {path} answered {status}, documented: {list(answers)}"
    assert_headers_documented(spec, answers[status], response.headers, f"{method} {path} {status}")
    [(media_type, content)] = answers[status]["content"].items()
    assert response.headers["Content-Type"].split(";")[0] == media_type
    if media_type != "application/json":
        return
    pointer = f"/paths/{path.replace('/', '~1')}/{method}/responses/{status}"
    schema = {"$ref": f"{CONTRACT}#{pointer}/content/application~1json/schema"}
    registry = Registry().with_resource(CONTRACT, Resource.from_contents(spec, DRAFT202012))
    validator = Draft202012Validator(schema, registry=registry, format_checker=FORMATS)
    validator.validate(response.json())


def record_when_done(client: ApiClient, image_id: str) -> Answer:
    """GET /images/<id> until the stream has processed or rejected the photo."""
    deadline = time.monotonic() + PROCESSING_TIMEOUT_S
    while (response := client.image(image_id)).status == 404:
        assert time.monotonic() < deadline, f"{image_id} was not processed in time"
        time.sleep(1)
    return response


def photo(seed: int, fmt: str = "jpeg", **exif) -> bytes:
    options = {"exif": exif_bytes(**exif)} if exif else {}
    return encode(photo_like(320, 240, seed=seed), fmt, **options)


# name -> (the photo, the form fields, the record's expected capture times and GPS source)
UPLOADS = {
    "exif zone and gps": (
        photo(1, taken="2024:06:01 12:30:00", offset="+02:00", gps=gps_ifd(45.07, 7.68)), {},
        ("2024-06-01T10:30:00Z", "2024-06-01T12:30:00", "exif"),
    ),
    "exif time without a zone, no gps": (
        photo(2, taken="2008:10:22 16:38:20"), {},
        (None, "2008-10-22T16:38:20", "none"),
    ),
    "no exif, the sender's time with a zone and position": (
        photo(3, "png"), {"captured_at": "2024-06-01T07:15:00-05:00", "lat": "-1.29",
                          "lon": "36.82"},
        ("2024-06-01T12:15:00Z", "2024-06-01T07:15:00", "client"),
    ),
    "no exif, the sender's time without a zone": (
        photo(4, "png"), {"captured_at": "2024-06-01T07:15:00"},
        (None, "2024-06-01T07:15:00", "none"),
    ),
    "nothing known": (photo(5, "png"), {}, (None, None, "none")),
}


@pytest.fixture(scope="module")
def records(client, spec) -> dict[str, Answer]:
    """Every upload of UPLOADS posted (each 202 checked against the contract), then its record."""
    posted = {}
    for name, (data, fields, _) in UPLOADS.items():
        response = client.post_image(data, f"{name}.img", label="maize", **fields)
        assert response.status == 202, response.text
        assert_documented(spec, "post", "/post_image", response)
        posted[name] = response.json()["image_id"]
    return {name: record_when_done(client, image_id) for name, image_id in posted.items()}


def test_the_format_checker_checks_date_times():
    """Without rfc3339-validator installed, jsonschema passes every date-time unchecked."""
    assert not FORMATS.conforms("2008-10-22T16:38:20", "date-time")
    assert FORMATS.conforms("2008-10-22T16:38:20Z", "date-time")


@pytest.mark.parametrize("name", list(UPLOADS))
def test_a_processed_record_keeps_the_contract(spec, records, name):
    response = records[name]

    assert_documented(spec, "get", "/images/{image_id}", response)
    record = response.json()
    assert record["status"] != "rejected", record
    captured_at, captured_at_local, gps_source = UPLOADS[name][2]
    assert (record["captured_at"], record["captured_at_local"]) == (captured_at, captured_at_local)
    assert record["gps_source"] == gps_source
    assert (record["lat"] is None) == (gps_source == "none")


@pytest.mark.skipif(not CORPUS_PHOTO.is_file(), reason="the shared corpus is absent")
def test_a_real_cameras_photo_keeps_the_contract(client, spec):
    response = client.post_image(CORPUS_PHOTO.read_bytes(), CORPUS_PHOTO.name, label="vines")
    assert response.status == 202, response.text

    record = record_when_done(client, response.json()["image_id"])

    assert_documented(spec, "get", "/images/{image_id}", record)
    assert record.json()["gps_source"] == "exif"


def test_a_photo_the_stream_rejects_keeps_the_contract(api, client, spec):
    message = bad_message(partition=0)
    produce(api.kafka_bootstrap_servers, api.kafka_topic, [message])

    response = record_when_done(client, message.image_id)

    assert_documented(spec, "get", "/images/{image_id}", response)
    assert (response.json()["status"], response.json()["gps_source"]) == ("rejected", "none")


def test_the_other_answers_about_a_processed_photo_keep_the_contract(client, spec, records):
    image_id = records["exif zone and gps"].json()["image_id"]
    base = f"/images/{image_id}"

    corrected = client.correct_label(image_id, "wheat", note="awns")
    history = client.labels(image_id)
    points = client.request("GET", "/map/points")
    tensor = client.request("GET", f"{base}/tensors/base.png")
    thumbnail = client.request("GET", f"{base}/thumbnail")

    assert_documented(spec, "put", "/images/{image_id}/label", corrected)
    assert_documented(spec, "get", "/images/{image_id}/labels", history)
    assert_documented(spec, "get", "/map/points", points)
    assert_documented(spec, "get", "/images/{image_id}/tensors/{variant}.png", tensor)
    assert_documented(spec, "get", "/images/{image_id}/thumbnail", thumbnail)
    assert [c["new_label"] for c in history.json()["history"]] == ["wheat"]
    assert image_id in {point["image_id"] for point in points.json()["points"]}


def test_error_answers_keep_the_contract(client, spec):
    unknown = "0" * 64
    anonymous = replace(client, token=None)
    answers = {
        ("post", "/post_image"): [
            client.post_image(gif(), "a.gif"),  # 415
            client.post_image(truncated_jpeg(), "t.jpg"),  # 422
            client.post_image(photo(6), "p.jpg", label="Maize!"),  # 400 invalid_label
            # 400 invalid_captured_at
            client.post_image(photo(6), "p.jpg", captured_at="yesterday"),
            client.request("POST", "/post_image", fields={
                "label": "maize", "photo": ("p.jpg", photo(6), None)}),  # 400 missing_file
            anonymous.post_image(photo(6), "p.jpg"),  # 401
            client.post_image(b"\xff\xd8\xff" + bytes(25 * 1024 * 1024), "big.jpg"),  # nginx's 413
        ],
        ("get", "/images/{image_id}"): [
            client.image(unknown),  # 404
            client.image("not-an-id"),  # 400
            client.request("GET", f"/images/{unknown}", headers={"Authorization": "Bearer nope"}),
        ],
        ("get", "/map/points"): [client.request("GET", "/map/points", fields={"from": "June"})],
        ("put", "/images/{image_id}/label"): [
            client.correct_label(unknown, "wheat"),  # 404
            client.request("PUT", f"/images/{unknown}/label", body="label=wheat"),  # 400
        ],
    }
    statuses = set()
    for (method, path), responses in answers.items():
        for response in responses:
            assert response.status >= 400, response.text
            assert_documented(spec, method, path, response)
            statuses.add(response.status)
    assert statuses == {400, 401, 404, 413, 415, 422}

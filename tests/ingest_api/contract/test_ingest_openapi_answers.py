"""The running API's real answers keep its contract, formats checked (date-time and the rest).

nginx, gunicorn and the streaming job run as deployed (tests/pipeline.py). Photos are posted to
the public port and followed until processed or rejected; every answer, successes and errors,
is validated against the contract the same port serves, with jsonschema's FormatChecker on.
"""

from __future__ import annotations

import time

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from kit.field_messages import bad_message, produce
from kit.photos import encode, exif_bytes, gps_ifd, photo_like
from kit.uploads import gif, truncated_jpeg
from settings import PROJECT_ROOT
from tests.ingest_api.contract.test_ingest_openapi import assert_headers_documented
from tests.pipeline import api_url, auth_header, running_pipeline

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
def spec(api) -> dict:
    response = requests.get(f"{api_url(api)}/openapi.json", timeout=10)
    assert response.status_code == 200
    return response.json()


def call(api, method: str, path: str, *, token: bool = True, **options) -> requests.Response:
    headers = {**(auth_header(api) if token else {}), **options.pop("headers", {})}
    return requests.request(method, f"{api_url(api)}{path}", headers=headers, timeout=60,
                            **options)


def assert_documented(spec: dict, method: str, path: str, response: requests.Response) -> None:
    """The answer's status and headers (with their values) are documented for the operation,
    and a JSON body fits its schema with every format checked."""
    answers = spec["paths"][path][method]["responses"]
    status = str(response.status_code)
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


def post(api, name: str, data: bytes, **fields) -> requests.Response:
    return call(api, "POST", "/post_image", files={"file": (name, data)}, data=fields)


def record_when_done(api, image_id: str) -> requests.Response:
    """GET /images/<id> until the stream has processed or rejected the photo."""
    deadline = time.monotonic() + PROCESSING_TIMEOUT_S
    while (response := call(api, "GET", f"/images/{image_id}")).status_code == 404:
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
def records(api, spec) -> dict[str, requests.Response]:
    """Every upload of UPLOADS posted (each 202 checked against the contract), then its record."""
    posted = {}
    for name, (data, fields, _) in UPLOADS.items():
        response = post(api, f"{name}.img", data, label="maize", **fields)
        assert response.status_code == 202, response.text
        assert_documented(spec, "post", "/post_image", response)
        posted[name] = response.json()["image_id"]
    return {name: record_when_done(api, image_id) for name, image_id in posted.items()}


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
def test_a_real_cameras_photo_keeps_the_contract(api, spec):
    response = post(api, CORPUS_PHOTO.name, CORPUS_PHOTO.read_bytes(), label="vines")
    assert response.status_code == 202, response.text

    record = record_when_done(api, response.json()["image_id"])

    assert_documented(spec, "get", "/images/{image_id}", record)
    assert record.json()["gps_source"] == "exif"


def test_a_photo_the_stream_rejects_keeps_the_contract(api, spec):
    message = bad_message(partition=0)
    produce(api.kafka_bootstrap_servers, api.kafka_topic, [message])

    response = record_when_done(api, message.image_id)

    assert_documented(spec, "get", "/images/{image_id}", response)
    assert (response.json()["status"], response.json()["gps_source"]) == ("rejected", "none")


def test_the_other_answers_about_a_processed_photo_keep_the_contract(api, spec, records):
    image_id = records["exif zone and gps"].json()["image_id"]
    base = f"/images/{image_id}"

    corrected = call(api, "PUT", f"{base}/label", json={"label": "wheat", "note": "awns"})
    history = call(api, "GET", f"{base}/labels")
    points = call(api, "GET", "/map/points")
    tensor = call(api, "GET", f"{base}/tensors/base.png")
    thumbnail = call(api, "GET", f"{base}/thumbnail")

    assert_documented(spec, "put", "/images/{image_id}/label", corrected)
    assert_documented(spec, "get", "/images/{image_id}/labels", history)
    assert_documented(spec, "get", "/map/points", points)
    assert_documented(spec, "get", "/images/{image_id}/tensors/{variant}.png", tensor)
    assert_documented(spec, "get", "/images/{image_id}/thumbnail", thumbnail)
    assert [c["new_label"] for c in history.json()["history"]] == ["wheat"]
    assert image_id in {point["image_id"] for point in points.json()["points"]}


def test_error_answers_keep_the_contract(api, spec):
    unknown = "0" * 64
    answers = {
        ("post", "/post_image"): [
            post(api, "a.gif", gif()),  # 415
            post(api, "t.jpg", truncated_jpeg()),  # 422
            post(api, "p.jpg", photo(6), label="Maize!"),  # 400 invalid_label
            post(api, "p.jpg", photo(6), captured_at="yesterday"),  # 400 invalid_captured_at
            call(api, "POST", "/post_image", data={"label": "maize"},
                 files={"photo": ("p.jpg", photo(6))}),  # 400 missing_file
            call(api, "POST", "/post_image", files={"file": ("p.jpg", photo(6))},
                 token=False),  # 401
            post(api, "big.jpg", b"\xff\xd8\xff" + bytes(25 * 1024 * 1024)),  # nginx's 413
        ],
        ("get", "/images/{image_id}"): [
            call(api, "GET", f"/images/{unknown}"),  # 404
            call(api, "GET", "/images/not-an-id"),  # 400
            call(api, "GET", f"/images/{unknown}", headers={"Authorization": "Bearer nope"}),
        ],
        ("get", "/map/points"): [call(api, "GET", "/map/points", params={"from": "June"})],
        ("put", "/images/{image_id}/label"): [
            call(api, "PUT", f"/images/{unknown}/label", json={"label": "wheat"}),  # 404
            call(api, "PUT", f"/images/{unknown}/label", data="label=wheat"),  # 400
        ],
    }
    statuses = set()
    for (method, path), responses in answers.items():
        for response in responses:
            assert response.status_code >= 400, response.text
            assert_documented(spec, method, path, response)
            statuses.add(response.status_code)
    assert statuses == {400, 401, 404, 413, 415, 422}

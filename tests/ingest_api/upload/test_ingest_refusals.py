"""Bad uploads get a JSON 400/413/415/422 and nothing reaches Kafka."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from ingest_api.ops.errors import too_large_message
from kit.uploads import gif, jpeg, png_bomb, truncated_jpeg
from photo.rules import capture_times_of
from tests.ingest_api.apps import running_app

TWENTY_FIVE_MB = 25 * 1024 * 1024


@pytest.fixture
def nothing_reaches_kafka(topic):
    """Every partition's high watermark is the same after the test as before it."""
    before = topic.highwaters()
    yield
    assert topic.highwaters() == before


def post_file(client, data: bytes, field: str = "file", **fields):
    return client.post("/post_image", data={field: (io.BytesIO(data), "upload.jpg"), **fields})


def assert_refused(response, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == error
    assert body["message"]


@pytest.mark.usefixtures("nothing_reaches_kafka")
class TestTheImageIsJudgedByContent:
    def test_zero_bytes_are_415(self, client):
        assert_refused(post_file(client, b""), 415, "unsupported_format")

    def test_text_is_415(self, client):
        assert_refused(post_file(client, b"this is not a photo\n"), 415, "unsupported_format")

    def test_another_image_format_is_415(self, client):
        assert_refused(post_file(client, gif()), 415, "unsupported_format")

    def test_a_truncated_jpeg_is_422_corrupt(self, client):
        assert_refused(post_file(client, truncated_jpeg()), 422, "corrupt")

    def test_a_png_declaring_30000x30000_pixels_is_422_too_many_pixels(self, client):
        bomb = png_bomb()
        assert len(bomb) < 1024 * 1024

        assert_refused(post_file(client, bomb), 422, "too_many_pixels")

    def test_an_image_over_the_settings_pixel_cap_is_422(self, ingest_settings):
        with running_app(replace(ingest_settings, max_pixels=10_000)) as app:
            response = post_file(app.test_client(), jpeg(200, 100))

        assert_refused(response, 422, "too_many_pixels")


@pytest.mark.usefixtures("nothing_reaches_kafka")
class TestTheSizeIsBounded:
    def test_a_25_mb_upload_is_json_413_naming_the_photos_limit(self, client, ingest_settings):
        response = post_file(client, b"\xff\xd8\xff" + bytes(TWENTY_FIVE_MB))

        assert_refused(response, 413, "too_large")
        assert response.get_json()["message"] == too_large_message(ingest_settings.max_upload_bytes)

    def test_a_file_over_the_upload_limit_within_the_request_limit_is_413(self, ingest_settings):
        with running_app(replace(ingest_settings, max_upload_bytes=10_000)) as app:
            response = post_file(app.test_client(), b"\xff\xd8\xff" + bytes(30_000))

        assert_refused(response, 413, "too_large")
        assert response.get_json()["message"] == too_large_message(10_000)


@pytest.mark.usefixtures("nothing_reaches_kafka")
class TestTheFormIsChecked:
    def test_a_body_that_is_not_multipart_is_400(self, client):
        response = client.post("/post_image", data=jpeg(), content_type="image/jpeg")

        assert_refused(response, 400, "not_multipart")

    def test_a_form_without_a_file_is_400_and_says_what_it_has_in_words(self, client):
        response = client.post(
            "/post_image", data={"label": "maize", "lat": "45.1", "lon": "7.6"},
            content_type="multipart/form-data",
        )

        assert_refused(response, 400, "missing_file")
        assert response.get_json()["message"] == (
            "no file in the field 'file'; the form has the fields 'label', 'lat' and 'lon'"
        )

    def test_an_empty_form_is_400_and_says_so(self, client):
        response = client.post("/post_image", data={}, content_type="multipart/form-data")

        assert response.get_json()["message"] == (
            "no file in the field 'file'; the form has no fields at all"
        )

    def test_the_wrong_field_name_is_400_and_names_the_right_one(self, client):
        response = post_file(client, jpeg(), field="photo", label="maize")

        assert_refused(response, 400, "missing_file")
        assert response.get_json()["message"] == (
            "no file in the field 'file'; the form has a file in 'photo' and the field 'label'"
        )

    def test_two_files_are_400(self, client):
        data = {"file": [(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(jpeg(seed=1)), "b.jpg")]}

        assert_refused(client.post("/post_image", data=data), 400, "too_many_files")

    @pytest.mark.parametrize("label", ["", "Maize", "maize corn", "maïs", "x" * 65, "a/b"])
    def test_a_bad_label_is_400(self, client, label):
        assert_refused(post_file(client, jpeg(), label=label), 400, "invalid_label")

    @pytest.mark.parametrize(
        "location",
        [
            {"lat": "45.0"},
            {"lon": "7.0"},
            {"lat": "91", "lon": "7"},
            {"lat": "45", "lon": "-180.5"},
            {"lat": "nan", "lon": "7"},
            {"lat": "inf", "lon": "7"},
            {"lat": "north", "lon": "7"},
            {"lat": "1_0", "lon": "7"},
            {"lat": "1e-400", "lon": "7"},
            {"lat": "45", "lon": "7e1"},
            {"lat": " 45", "lon": "7"},
            {"lat": "45", "lon": "7\n"},
            {"lat": "0x2d", "lon": "7"},
            {"lat": "٤٥", "lon": "7"},
        ],
    )
    def test_a_bad_location_is_400(self, client, location):
        assert_refused(post_file(client, jpeg(), **location), 400, "invalid_location")

    @pytest.mark.parametrize(
        "captured_at",
        ["yesterday", "2024-13-01", "", "1" * 100, "0001-01-01T00:00:00", "9999-12-31T23:59:59Z"],
    )
    def test_a_captured_at_that_is_not_iso_8601_is_400(self, client, captured_at):
        response = post_file(client, jpeg(), captured_at=captured_at)

        assert_refused(response, 400, "invalid_captured_at")


    def test_a_multipart_body_without_a_boundary_is_400_invalid_multipart(self, client):
        response = client.post(
            "/post_image", data=b"--x\r\n", content_type="multipart/form-data"
        )

        assert_refused(response, 400, "invalid_multipart")

    def test_five_thousand_small_fields_are_400_too_many_fields(self, client):
        fields = {f"f{n}": "x" for n in range(5000)}

        response = post_file(client, jpeg(), **fields)

        assert_refused(response, 400, "too_many_fields")


def test_a_time_with_an_offset_beyond_what_elasticsearch_takes_becomes_a_utc_record(client, topic):
    response = post_file(client, jpeg(seed=12), captured_at="2024-06-01T12:30:00+19:30")

    record = topic.record_at(response.get_json()["partition"], response.get_json()["offset"])
    sent = dict(record.headers)["client_captured_at"].decode()
    assert sent == "2024-06-01T12:30:00+19:30"  # the offset travels, for the local time
    assert capture_times_of(sent) == ("2024-05-31T17:00:00Z", "2024-06-01T12:30:00")


def test_the_service_keeps_answering_after_refusals(client):
    post_file(client, b"")
    post_file(client, truncated_jpeg())

    assert client.get("/is_alive").status_code == 200
    assert post_file(client, jpeg(seed=11)).status_code == 202

"""The manifest row of an outcome: where its position and its capture time come from."""

from __future__ import annotations

import pytest

from dataset.dead_letters import index_refused_row
from dataset.image_record import FIELD_NAMES
from dataset.records import GPS_SOURCES, manifest_row
from kit.photos import DAMAGED_EXIF, encode, exif_bytes, gps_ifd, photo_like
from photo.upload import Upload, process_upload


def row_of(exif: dict | None = None, data: bytes | None = None, **upload) -> dict:
    options = {"exif": exif_bytes(**exif)} if exif else {}
    data = data or encode(photo_like(160, 120, seed=3), "jpeg", **options)
    outcome = process_upload(Upload(data, "test", **upload), n_variants=0, max_pixels=10**8)
    return manifest_row(outcome, None, None)


def test_a_row_has_every_field_of_the_record():
    assert list(row_of()) == list(FIELD_NAMES)


@pytest.mark.parametrize(
    ("exif", "client", "expected"),
    [
        ({"gps": gps_ifd(-1.17, 36.83)}, {"client_lat": 10.5, "client_lon": -20.25}, "exif"),
        (None, {"client_lat": 10.5, "client_lon": -20.25}, "client"),
        (None, {}, "none"),
    ],
)
def test_gps_source_says_where_the_position_comes_from_and_none_without_one(
    exif, client, expected
):
    row = row_of(exif, **client)

    assert row["gps_source"] == expected
    assert (row["lat"] is None) == (expected == "none")


def test_a_rejected_photo_and_an_index_refusal_have_no_position():
    rejected = row_of(data=b"not a photo")

    assert (rejected["status"], rejected["gps_source"]) == ("rejected", "none")
    assert index_refused_row(row_of(), "refused")["gps_source"] == "none"
    assert set(GPS_SOURCES) == {"exif", "client", "none"}


def test_a_damaged_exif_block_is_recorded_and_the_photo_still_processed():
    block = DAMAGED_EXIF["exif_pointer_without_value"]
    damaged = row_of(data=encode(photo_like(160, 120, seed=3), "jpeg", exif=block))

    assert (damaged["status"], damaged["exif_error"], damaged["gps_source"]) == (
        "processed", "damaged", "none"
    )
    assert row_of({"make": "Acme"})["exif_error"] is None


def test_an_exif_time_without_a_zone_is_only_a_local_time():
    row = row_of({"taken": "2008:10:22 16:38:20"})

    assert (row["captured_at"], row["captured_at_local"]) == (None, "2008-10-22T16:38:20")


def test_an_exif_time_with_its_offset_is_a_utc_moment_and_a_local_time():
    row = row_of({"taken": "2008:10:22 16:38:20", "offset": "-03:00"})

    assert (row["captured_at"], row["captured_at_local"]) == (
        "2008-10-22T19:38:20Z", "2008-10-22T16:38:20"
    )


def test_the_photos_own_time_wins_over_the_senders():
    row = row_of({"taken": "2008:10:22 16:38:20"}, client_captured_at="2024-06-01T12:30:00+02:00")

    assert (row["captured_at"], row["captured_at_local"]) == (None, "2008-10-22T16:38:20")


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2024-06-01T12:30:00+02:00", ("2024-06-01T10:30:00Z", "2024-06-01T12:30:00")),
        ("2024-06-01T10:30:00Z", ("2024-06-01T10:30:00Z", "2024-06-01T10:30:00")),
        ("2024-06-01T12:30:00", (None, "2024-06-01T12:30:00")),
    ],
)
def test_without_an_exif_time_the_senders_time_is_used_with_its_zone_if_given(sent, expected):
    row = row_of(client_captured_at=sent)

    assert (row["captured_at"], row["captured_at_local"]) == expected

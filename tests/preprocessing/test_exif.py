"""EXIF facts: signed GPS degrees, altitude, ISO 8601 capture time, camera; damage gives None.

A block that cannot be read at all gives no facts and says so (error).
"""

import math

import piexif
import pytest

from kit.photos import (
    DAMAGED_EXIF,
    SAVE_AS,
    encode,
    exif_bytes,
    gps_ifd,
    near_lossless,
    scene,
)
from preprocessing.exif import DAMAGED, ExifFacts, read_exif

GPS = piexif.GPSIFD


def _jpeg_with(**tags) -> bytes:
    return encode(scene(), "jpeg", exif=exif_bytes(**tags))


def _position(gps: dict) -> tuple[float | None, float | None]:
    facts = read_exif(_jpeg_with(gps=gps))
    return facts.lat, facts.lon


def test_north_and_east_are_positive_degrees():
    lat, lon = _position(gps_ifd(51.500729, 0.124625))

    assert lat == pytest.approx(51.500729, abs=1e-6)
    assert lon == pytest.approx(0.124625, abs=1e-6)


def test_south_and_west_are_negative_degrees():
    lat, lon = _position(gps_ifd(-33.856784, -151.215297))

    assert lat == pytest.approx(-33.856784, abs=1e-6)
    assert lon == pytest.approx(-151.215297, abs=1e-6)


def test_degrees_minutes_and_seconds_add_up():
    gps = {
        GPS.GPSLatitudeRef: b"N",
        GPS.GPSLatitude: ((10, 1), (30, 1), (36, 1)),
        GPS.GPSLongitudeRef: b"E",
        GPS.GPSLongitude: ((20, 1), (15, 1), (0, 1)),
    }

    assert _position(gps) == (pytest.approx(10.51), pytest.approx(20.25))


def test_a_zero_denominator_gives_no_position_rather_than_an_error():
    gps = gps_ifd(51.5, 0.12)
    gps[GPS.GPSLatitude] = ((51, 1), (30, 0), (0, 1))

    assert _position(gps) == (None, None)


def test_a_missing_reference_gives_no_position():
    gps = gps_ifd(51.5, 0.12)
    del gps[GPS.GPSLatitudeRef]

    assert _position(gps) == (None, None)


def test_an_unknown_reference_gives_no_position():
    assert _position(gps_ifd(51.5, 0.12, lat_ref="X")) == (None, None)


@pytest.mark.parametrize(("lat", "lon"), [(95.0, 10.0), (10.0, 181.0)], ids=["lat_95", "lon_181"])
def test_an_out_of_range_coordinate_gives_no_position(lat, lon):
    assert _position(gps_ifd(lat, lon)) == (None, None)


def test_a_latitude_without_a_longitude_gives_no_position():
    gps = gps_ifd(51.5, 0.12)
    del gps[GPS.GPSLongitude]

    assert _position(gps) == (None, None)


def _altitude(metres: tuple[int, int], ref: int | None = None) -> float | None:
    gps = {**gps_ifd(51.5, 0.12), GPS.GPSAltitude: metres}
    if ref is not None:
        gps[GPS.GPSAltitudeRef] = ref
    return read_exif(_jpeg_with(gps=gps)).altitude


def test_altitude_is_metres_above_sea_level():
    assert _altitude((12345, 10), ref=0) == 1234.5


def test_altitude_reference_1_means_below_sea_level():
    assert _altitude((4305, 10), ref=1) == -430.5


def test_altitude_without_a_reference_is_above_sea_level():
    assert _altitude((100, 1)) == 100.0


@pytest.mark.parametrize("metres", [(4_000_000_000, 1), (1, 4_000_000_000)], ids=["huge", "tiny"])
def test_an_altitude_out_of_any_field_range_is_none_and_a_tiny_one_is_kept(metres):
    expected = None if metres[0] > 100_000 else pytest.approx(0, abs=1e-6)

    assert _altitude(metres, ref=0) == expected


def test_a_camera_make_of_forty_thousand_characters_is_cut_to_128():
    facts = read_exif(_jpeg_with(make="A" * 40_000, model="X\x01\x7f100"))

    assert facts.camera_make == "A" * 128
    assert facts.camera_model == "X100"


def test_altitude_with_a_zero_denominator_is_none():
    assert _altitude((100, 0), ref=0) is None


def test_a_capture_time_without_an_offset_is_a_local_time_and_no_utc_time():
    facts = read_exif(_jpeg_with(taken="2024:03:05 14:07:09"))

    assert (facts.captured_at, facts.captured_at_local) == (None, "2024-03-05T14:07:09")


def test_a_capture_time_with_an_offset_is_given_in_utc_and_as_the_local_clock_showed_it():
    facts = read_exif(_jpeg_with(taken="2024:03:05 14:07:09", offset="+02:00"))

    assert (facts.captured_at, facts.captured_at_local) == (
        "2024-03-05T12:07:09Z", "2024-03-05T14:07:09"
    )


def test_the_file_date_times_offset_goes_with_the_file_date_time():
    facts = read_exif(_jpeg_with(modified="2019:07:01 08:00:00", modified_offset="-05:00"))

    assert (facts.captured_at, facts.captured_at_local) == (
        "2019-07-01T13:00:00Z", "2019-07-01T08:00:00"
    )


def test_an_offset_beyond_what_elasticsearch_takes_still_gives_a_utc_time():
    facts = read_exif(_jpeg_with(taken="2024:03:05 14:07:09", offset="+19:30"))

    assert facts.captured_at == "2024-03-04T18:37:09Z"


@pytest.mark.parametrize(
    "taken", ["0001:01:01 00:00:00", "1899:12:31 23:59:59", "2100:01:01 00:00:00"]
)
def test_a_capture_time_outside_1900_to_2099_is_none(taken):
    facts = read_exif(_jpeg_with(taken=taken, offset="+00:00"))

    assert (facts.captured_at, facts.captured_at_local) == (None, None)


def test_a_capture_time_that_leaves_the_range_in_utc_keeps_only_its_local_time():
    facts = read_exif(_jpeg_with(taken="1900:01:01 00:30:00", offset="+01:00"))

    assert (facts.captured_at, facts.captured_at_local) == (None, "1900-01-01T00:30:00")


def test_an_unreadable_offset_leaves_the_zone_unknown():
    facts = read_exif(_jpeg_with(taken="2024:03:05 14:07:09", offset="+99:99"))

    assert (facts.captured_at, facts.captured_at_local) == (None, "2024-03-05T14:07:09")


@pytest.mark.parametrize("garbage", ["not a date", "0000:00:00 00:00:00", "2024:13:45 25:61:61"])
def test_a_garbage_capture_time_is_none(garbage):
    facts = read_exif(_jpeg_with(taken=garbage))

    assert (facts.captured_at, facts.captured_at_local) == (None, None)


def test_without_date_time_original_the_file_date_time_is_used():
    facts = read_exif(_jpeg_with(modified="2019:07:01 08:00:00"))

    assert facts.captured_at_local == "2019-07-01T08:00:00"


def test_date_time_original_wins_over_the_file_date_time():
    facts = read_exif(_jpeg_with(taken="2024:03:05 14:07:09", modified="2025:01:01 00:00:00"))

    assert facts.captured_at_local == "2024-03-05T14:07:09"


def test_camera_make_and_model_are_read():
    facts = read_exif(_jpeg_with(make="Acme", model="Acme X100"))

    assert (facts.camera_make, facts.camera_model) == ("Acme", "Acme X100")


def test_camera_names_are_stripped_of_padding():
    facts = read_exif(_jpeg_with(make="Acme   ", model="  X100\x00\x00"))

    assert (facts.camera_make, facts.camera_model) == ("Acme", "X100")


def test_a_blank_camera_name_is_none():
    assert read_exif(_jpeg_with(make="   ")).camera_make is None


@pytest.mark.parametrize("fmt", sorted(SAVE_AS))
def test_gps_and_camera_are_read_from_every_supported_format(fmt):
    exif = exif_bytes(make="Acme", gps=gps_ifd(-12.5, 130.75))

    facts = read_exif(encode(scene(), fmt, exif=exif, **near_lossless(fmt)))

    assert facts.lat == pytest.approx(-12.5, abs=1e-6)
    assert facts.lon == pytest.approx(130.75, abs=1e-6)
    assert facts.camera_make == "Acme"


@pytest.mark.parametrize("fmt", sorted(SAVE_AS))
def test_a_file_without_exif_gives_empty_facts(fmt):
    assert read_exif(encode(scene(), fmt, **near_lossless(fmt))) == ExifFacts()


def test_bytes_that_are_not_an_image_give_empty_facts():
    assert read_exif(b"not an image at all") == ExifFacts()


def test_empty_facts_are_all_none():
    assert all(value is None for value in vars(ExifFacts()).values())


def test_coordinates_are_finite_floats():
    lat, lon = _position(gps_ifd(1.25, 2.5))

    assert isinstance(lat, float) and math.isfinite(lat)
    assert isinstance(lon, float) and math.isfinite(lon)


# TIFF is left out: its EXIF is the file's own IFD, which Pillow writes anew.
@pytest.mark.parametrize("fmt", ["heif", "jpeg", "png", "webp"])
@pytest.mark.parametrize("block", sorted(DAMAGED_EXIF))
def test_an_exif_block_that_cannot_be_read_is_a_fact_not_a_silence(fmt, block):
    data = encode(scene(), fmt, exif=DAMAGED_EXIF[block], **near_lossless(fmt))

    assert read_exif(data) == ExifFacts(error=DAMAGED)


@pytest.mark.parametrize("fmt", sorted(SAVE_AS))
def test_a_readable_exif_block_has_no_error(fmt):
    data = encode(scene(), fmt, exif=exif_bytes(make="Acme"), **near_lossless(fmt))

    assert read_exif(data).error is None

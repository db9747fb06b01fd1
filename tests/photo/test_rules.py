"""The rules of what a sender tells: here, the capture time, which keeps its offset."""

import pytest

from photo.rules import InvalidFact, capture_times_of, captured_at


def test_a_time_with_an_offset_keeps_it_so_the_local_time_is_not_lost():
    assert captured_at("2024-06-01T12:30:00+02:00") == "2024-06-01T12:30:00+02:00"


def test_utc_is_written_with_z():
    assert captured_at("2024-06-01T10:30:00+00:00") == "2024-06-01T10:30:00Z"


def test_a_time_without_an_offset_stays_without_one():
    assert captured_at("2024-06-01T12:30:00.250") == "2024-06-01T12:30:00"


@pytest.mark.parametrize(
    "text", ["yesterday", "0001-01-01T00:00:00", "2100-01-01T00:00:00Z",
             "1900-01-01T00:30:00+01:00", "2024-06-01T12:30:00+99:00"],
)
def test_a_time_out_of_range_or_unreadable_is_refused(text):
    with pytest.raises(InvalidFact) as refused:
        captured_at(text)

    assert refused.value.code == "invalid_captured_at"


def test_with_an_offset_the_record_gets_the_utc_moment_and_the_local_time():
    assert capture_times_of("2024-06-01T12:30:00+02:00") == (
        "2024-06-01T10:30:00Z", "2024-06-01T12:30:00"
    )


def test_without_an_offset_the_record_gets_only_the_local_time():
    assert capture_times_of("2024-06-01T12:30:00") == (None, "2024-06-01T12:30:00")


def test_no_time_gives_neither():
    assert capture_times_of(None) == (None, None)

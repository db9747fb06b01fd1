"""A Kafka message is an Upload only if its headers are ones the API could have written."""

from __future__ import annotations

import pytest

from photo.messages import (
    MAX_HEADER_BYTES,
    InvalidMessage,
    encode_headers,
    unreadable_record_headers,
    upload_from_message,
)
from photo.upload import invalid_message
from preprocessing import image_id_of

FACTS = {"label": "maize", "device_id": "phone-1", "client_lat": "-1.286", "client_lon": "36.817",
         "client_captured_at": "2026-11-20T08:00:00Z", "request_id": "0f3c9a7e2b5d4c1a"}


def decode(headers):
    return upload_from_message(b"photo", headers, "kafka:t/0/7")


def test_what_the_api_encodes_decodes_to_the_same_facts():
    upload = decode(encode_headers(FACTS))

    assert (upload.label, upload.device_id) == ("maize", "phone-1")
    assert (upload.client_lat, upload.client_lon) == (-1.286, 36.817)
    assert upload.client_captured_at == "2026-11-20T08:00:00Z"
    assert upload.request_id == "0f3c9a7e2b5d4c1a"
    assert upload.source == "kafka:t/0/7"


def test_unknown_headers_are_ignored_and_no_headers_at_all_is_fine():
    assert decode([("x-trace", b"\xff\xfe")]).label is None
    assert decode(None).label is None


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ([("label", b"Maize!")], "label"),
        ([("label", b"x" * 65)], "label"),
        ([("label", b"\xff\xfe")], "label"),
        ([("label", None)], "label"),
        ([("label", b"maize"), ("label", b"wheat")], "label"),
        ([("client_lat", b"1e-400"), ("client_lon", b"7")], "location"),
        ([("client_lat", b"91"), ("client_lon", b"7")], "location"),
        ([("client_lat", b"45")], "location"),
        ([("client_captured_at", b"0001-01-01T00:00:00")], "captured_at"),
        ([("client_captured_at", b"yesterday")], "captured_at"),
        ([("device_id", b"")], "device_id"),
        ([("device_id", b"a\nb")], "device_id"),
        ([("request_id", b"short")], "request_id"),
        ([("request_id", b"id with spaces and\nlines")], "request_id"),
        ([("request_id", b"x" * 65)], "request_id"),
    ],
)
def test_a_header_the_api_would_never_write_makes_the_message_invalid(headers, named):
    with pytest.raises(InvalidMessage, match=named):
        decode(headers)


def test_headers_over_the_size_limit_make_the_message_invalid_even_unknown_ones():
    with pytest.raises(InvalidMessage, match="bytes"):
        decode([("x-padding", b"x" * MAX_HEADER_BYTES)])


def test_a_record_the_reader_could_not_parse_is_invalid_and_says_why():
    with pytest.raises(InvalidMessage, match="could not be read: its header name is broken"):
        decode(unreadable_record_headers("its header name is broken"))


def test_dead_letters_of_messages_without_bytes_are_named_by_their_position():
    letters = [invalid_message(b"", f"kafka:t/0/{offset}", "unreadable") for offset in (3, 4)]

    assert [letter.image_id for letter in letters] == [image_id_of(b"kafka:t/0/3"),
                                                      image_id_of(b"kafka:t/0/4")]
    assert invalid_message(b"photo", "kafka:t/0/5", "bad").image_id == image_id_of(b"photo")


def test_values_at_their_limits_are_valid():
    upload = decode([("label", b"x" * 64), ("device_id", b"d" * 128), ("client_lat", b"-90"),
                     ("client_lon", b"180.000000000000"), ("client_captured_at",
                     b"2099-12-31T23:59:59+00:00")])

    assert upload.label == "x" * 64
    assert (upload.client_lat, upload.client_lon) == (-90.0, 180.0)
    assert upload.client_captured_at == "2099-12-31T23:59:59Z"

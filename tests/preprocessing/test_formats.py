"""The format is recognised from the bytes themselves; anything else is refused by name."""

import numpy as np
import pytest
from PIL import Image

from kit.photos import SAVE_AS, encode, near_lossless, save_as, scene
from preprocessing.errors import ImageRejected, UnsupportedFormat
from preprocessing.formats import sniff_format

NOT_IMAGES = {
    "empty": b"",
    "text": b"latitude,longitude\n51.5,-0.12\n",
    "random_bytes": np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    "gif": save_as(scene(), "GIF"),
    "bmp": save_as(scene(), "BMP"),
}


@pytest.mark.parametrize("fmt", sorted(SAVE_AS))
def test_each_supported_format_is_recognised_from_its_bytes(fmt):
    data = encode(scene(), fmt, **near_lossless(fmt))

    assert sniff_format(data) == fmt


def test_a_big_endian_tiff_is_recognised():
    data = encode(Image.new("I;16B", (8, 8)), "tiff")
    assert data.startswith(b"MM\x00*")

    assert sniff_format(data) == "tiff"


@pytest.mark.parametrize("data", NOT_IMAGES.values(), ids=NOT_IMAGES.keys())
def test_other_content_is_refused_as_an_unsupported_format(data):
    with pytest.raises(UnsupportedFormat) as refused:
        sniff_format(data)

    assert isinstance(refused.value, ImageRejected)
    assert refused.value.reason == "unsupported_format"


def test_an_empty_file_is_refused_with_a_sentence_saying_so():
    with pytest.raises(UnsupportedFormat, match="empty"):
        sniff_format(b"")


def test_a_refusal_names_the_formats_that_are_accepted():
    with pytest.raises(UnsupportedFormat) as refused:
        sniff_format(NOT_IMAGES["gif"])

    message = str(refused.value)
    for name in ("JPEG", "PNG", "WebP", "TIFF", "HEIC"):
        assert name in message

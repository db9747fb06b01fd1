"""Every EXIF orientation is applied: a file stored sideways or mirrored gives the upright tensor.

Each file stores the same upright scene transformed as its tag says (per the EXIF definition of
the tag, not per Pillow); once processed, all must match the upright scene.
"""

import io
import struct

import numpy as np
import pytest
from PIL import Image

from kit.photos import (
    DAMAGED_EXIF,
    SAVE_AS,
    encode,
    exif_bytes,
    near_lossless,
    raw_exif_block,
    scene,
    store_for_orientation,
)
from preprocessing import process_image
from preprocessing.orientation import apply_orientation, ifd0_orientation, stored_orientation
from preprocessing.resize import base_tensor

UPRIGHT = scene(120, 80)
ORIENTATIONS = range(1, 9)


def _tagged_file(orientation: int, fmt: str = "jpeg") -> bytes:
    stored = store_for_orientation(UPRIGHT, orientation)
    return encode(stored, fmt, exif=exif_bytes(orientation=orientation), **near_lossless(fmt))


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


@pytest.fixture(scope="module")
def upright_tensor() -> np.ndarray:
    return base_tensor(Image.fromarray(UPRIGHT))


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_the_stored_pixels_differ_from_the_upright_scene_unless_the_tag_is_1(
    orientation, upright_tensor
):
    stored_tensor = base_tensor(Image.fromarray(store_for_orientation(UPRIGHT, orientation)))

    if orientation == 1:
        assert _mean_difference(stored_tensor, upright_tensor) == 0
    else:
        assert _mean_difference(stored_tensor, upright_tensor) > 20


@pytest.mark.parametrize("fmt", sorted(SAVE_AS))
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_a_tagged_file_gives_the_upright_base_tensor(orientation, fmt, upright_tensor):
    processed = process_image(_tagged_file(orientation, fmt), n_variants=0)

    assert _mean_difference(processed.base, upright_tensor) < 2


@pytest.mark.parametrize("fmt", sorted(SAVE_AS))
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_metadata_reports_the_files_orientation_tag(orientation, fmt):
    metadata = process_image(_tagged_file(orientation, fmt), n_variants=0).metadata

    assert metadata.orientation == orientation


@pytest.mark.parametrize("fmt", sorted(SAVE_AS))
def test_metadata_reports_the_stored_size_of_a_file_stored_sideways(fmt):
    metadata = process_image(_tagged_file(6, fmt), n_variants=0).metadata

    assert (metadata.width, metadata.height) == (80, 120)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_stored_orientation_reads_the_tag_of_an_opened_file(orientation):
    image = Image.open(io.BytesIO(_tagged_file(orientation)))

    assert stored_orientation(image) == orientation


@pytest.mark.parametrize("tag", [0, 9, 300])
def test_an_out_of_range_tag_counts_as_upright(tag, upright_tensor):
    data = encode(UPRIGHT, "png", exif=exif_bytes(orientation=tag))

    processed = process_image(data, n_variants=0)

    assert processed.metadata.orientation == 1
    np.testing.assert_array_equal(processed.base, upright_tensor)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
@pytest.mark.parametrize("block", sorted(DAMAGED_EXIF))
def test_a_damaged_exif_block_counts_as_upright(fmt, block):
    image = Image.open(io.BytesIO(encode(UPRIGHT, fmt, exif=DAMAGED_EXIF[block])))

    assert stored_orientation(image) == 1


# IFD0 ends 26 bytes into the block (after its Exif header): a RATIONAL or DOUBLE value there.
NOT_A_NUMBER = {
    "ASCII": raw_exif_block((0x0112, 2, 2, int.from_bytes(b"x\0\0\0", "little"))),
    "UNDEFINED": raw_exif_block((0x0112, 7, 1, 6)),
    "RATIONAL_6_over_0": raw_exif_block((0x0112, 5, 1, 26)) + struct.pack("<II", 6, 0),
    "DOUBLE_infinity": raw_exif_block((0x0112, 12, 1, 26)) + struct.pack("<d", float("inf")),
}


@pytest.mark.parametrize("kind", sorted(NOT_A_NUMBER))
def test_an_orientation_tag_that_is_not_a_number_counts_as_upright(kind):
    image = Image.open(io.BytesIO(encode(UPRIGHT, "png", exif=NOT_A_NUMBER[kind])))

    assert stored_orientation(image) == 1


def test_a_file_without_exif_is_upright_as_stored(upright_tensor):
    image = Image.open(io.BytesIO(encode(UPRIGHT, "png")))

    assert stored_orientation(image) == 1
    np.testing.assert_array_equal(
        np.asarray(apply_orientation(image, stored_orientation(image))), UPRIGHT
    )


def _raw_exif(order: str, orientation_type: int, *tags: int) -> bytes:
    """A raw EXIF block: the Exif header, a TIFF header and IFD0 holding `tags` (value 6 each)."""
    mark = b"II" if order == "<" else b"MM"
    value_format = "HH" if orientation_type == 3 else "I"
    values = (6, 0) if orientation_type == 3 else (6,)
    entries = b"".join(
        struct.pack(order + "HHI" + value_format, tag, orientation_type, 1, *values) for tag in tags
    )
    return b"Exif\x00\x00" + mark + struct.pack(order + "HIH", 42, 8, len(tags)) + entries


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
@pytest.mark.parametrize("orientation_type", [3, 4], ids=["SHORT", "LONG"])
def test_the_raw_exif_walk_finds_the_tag_among_others(order, orientation_type):
    assert ifd0_orientation(_raw_exif(order, orientation_type, 0x010F, 0x0112, 0x0131)) == 6


def test_the_raw_exif_walk_reads_a_block_without_the_tag_as_upright():
    assert ifd0_orientation(_raw_exif("<", 3, 0x010F)) == 1


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_the_raw_exif_walk_agrees_with_pillows_parse(orientation):
    image = Image.open(io.BytesIO(_tagged_file(orientation)))

    assert ifd0_orientation(image.info["exif"]) == image.getexif()[0x0112] == orientation

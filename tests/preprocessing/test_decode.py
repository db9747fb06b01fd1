"""Decoding: every supported format opens by content; damaged data and bombs get typed refusals."""

import numpy as np
import pytest
from PIL import Image

from kit.photos import (
    SAVE_AS,
    encode,
    jpeg_cut_short,
    jpeg_declaring,
    large_photo_jpeg,
    near_lossless,
    photo_like,
    png_header_only,
    scene,
)
from preprocessing import process_image
from preprocessing.decode import decode_image
from preprocessing.errors import CorruptImage, TooManyPixels
from preprocessing.pipeline import DEFAULT_MAX_PIXELS

CAP = 10_000_000


@pytest.mark.parametrize("fmt", sorted(SAVE_AS))
def test_each_supported_format_decodes_to_its_stored_size(fmt):
    decoded = decode_image(encode(scene(120, 80), fmt, **near_lossless(fmt)), max_pixels=CAP)

    assert decoded.format == fmt
    assert (decoded.width, decoded.height) == (120, 80)
    assert decoded.image.size == (120, 80)


@pytest.mark.parametrize("fmt", ["png", "webp", "tiff"])
def test_lossless_formats_decode_to_the_exact_pixels(fmt):
    pixels = scene(120, 80)

    decoded = decode_image(encode(pixels, fmt, **near_lossless(fmt)), max_pixels=CAP)

    np.testing.assert_array_equal(np.asarray(decoded.image.convert("RGB")), pixels)


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_a_file_cut_in_half_is_refused_as_corrupt(fmt):
    data = encode(np.random.default_rng(1).integers(0, 256, (200, 300, 3), np.uint8), fmt)

    with pytest.raises(CorruptImage) as refused:
        decode_image(data[: len(data) // 2], max_pixels=CAP)

    assert refused.value.reason == "corrupt"
    assert fmt in str(refused.value).lower()


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_a_file_cut_inside_its_header_is_refused_as_corrupt(fmt):
    data = encode(scene(), fmt)

    with pytest.raises(CorruptImage):
        decode_image(data[:20], max_pixels=CAP)


def test_a_png_declaring_ten_billion_pixels_is_refused_without_decoding():
    # The file holds no pixel data: had it been decoded, the refusal would be CorruptImage.
    with pytest.raises(TooManyPixels) as refused:
        decode_image(png_header_only(100_000, 100_000), max_pixels=DEFAULT_MAX_PIXELS)

    assert refused.value.reason == "too_many_pixels"


def test_a_jpeg_declaring_a_huge_frame_is_refused_without_decoding():
    with pytest.raises(TooManyPixels):
        decode_image(jpeg_declaring(60_000, 60_000), max_pixels=DEFAULT_MAX_PIXELS)


def test_the_pixel_cap_is_checked_from_the_header_before_decoding():
    # 120 Mpx: over the default cap of 100 Mpx but under Pillow's own bomb limit, so only our
    # check can refuse it; there is no pixel data, so a decode would have failed as corrupt.
    with pytest.raises(TooManyPixels, match="over the cap"):
        decode_image(png_header_only(12_000, 10_000), max_pixels=DEFAULT_MAX_PIXELS)


def test_an_image_one_pixel_over_the_cap_is_refused():
    data = encode(scene(100, 100), "png")

    with pytest.raises(TooManyPixels, match="10,000 pixels"):
        decode_image(data, max_pixels=9_999)


def test_an_image_exactly_at_the_cap_is_decoded():
    data = encode(scene(100, 100), "png")

    assert decode_image(data, max_pixels=10_000).image.size == (100, 100)


def test_a_large_jpeg_is_decoded_at_a_dct_scale_but_reports_its_stored_size():
    decoded = decode_image(large_photo_jpeg(), max_pixels=DEFAULT_MAX_PIXELS, draft_size=224)

    assert (decoded.width, decoded.height) == (3000, 2000)
    assert decoded.image.size == (375, 250)  # 1/8 scale


def test_the_dct_scale_never_takes_a_side_below_the_draft_size():
    data = encode(scene(2000, 460), "jpeg")

    decoded = decode_image(data, max_pixels=DEFAULT_MAX_PIXELS, draft_size=224)

    assert decoded.image.size == (1000, 230)  # 1/2: a quarter would make the short side 115


def test_without_a_draft_size_a_jpeg_is_fully_decoded():
    decoded = decode_image(large_photo_jpeg(), max_pixels=DEFAULT_MAX_PIXELS)

    assert decoded.image.size == (3000, 2000)


def test_a_large_picture_comes_back_at_working_size_in_rgb_with_its_stored_size():
    data = encode(Image.fromarray(scene(2000, 1000)).convert("LA"), "png")

    decoded = decode_image(data, max_pixels=CAP, draft_size=224)

    assert (decoded.width, decoded.height) == (2000, 1000)
    assert decoded.image.mode == "RGB"
    assert decoded.image.size == (500, 250)  # reduced by 4: the shorter side stays >= 224


# A JPEG whose data ends early is decoded by libjpeg with warnings: the missing blocks become
# mid-grey. When that fill is all of the picture's bottom tenth, the photo is refused.
LYING_JPEGS = {
    "baseline": (photo_like(640, 480), {"quality": 90}),
    "progressive": (photo_like(640, 480), {"quality": 90, "progressive": True}),
    "grey": (np.asarray(Image.fromarray(photo_like(640, 480)).convert("L")), {}),
    "cmyk": (Image.fromarray(photo_like(640, 480)).convert("CMYK"), {}),
}


@pytest.mark.parametrize(("pixels", "options"), LYING_JPEGS.values(), ids=LYING_JPEGS.keys())
def test_a_jpeg_declaring_9000x9000_over_the_data_of_640x480_is_refused_as_corrupt(
    pixels, options
):
    data = jpeg_declaring(9000, 9000, pixels, **options)

    with pytest.raises(CorruptImage, match="ends early"):
        decode_image(data, max_pixels=DEFAULT_MAX_PIXELS, draft_size=224)


def test_the_lying_jpeg_is_refused_by_the_whole_core_too():
    with pytest.raises(CorruptImage):
        process_image(jpeg_declaring(9000, 9000, photo_like(640, 480), quality=90))


@pytest.mark.parametrize("kept", [0.5, 0.8])
def test_a_jpeg_cut_short_but_closed_by_an_end_marker_is_refused_as_corrupt(kept):
    data = jpeg_cut_short(encode(photo_like(640, 480), "jpeg", quality=90), kept)

    with pytest.raises(CorruptImage, match="ends early"):
        decode_image(data, max_pixels=CAP, draft_size=224)


def test_a_jpeg_missing_only_its_last_few_rows_is_still_decoded():
    data = jpeg_cut_short(encode(photo_like(640, 480), "jpeg", quality=90), 0.97)

    decoded = decode_image(data, max_pixels=CAP, draft_size=224)

    bottom = np.asarray(decoded.image)[-24:]
    assert (bottom == 128).all(axis=(1, 2)).any()  # some rows are the fill, under a tenth


def test_a_photo_whose_bottom_tenth_is_exactly_mid_grey_counts_as_cut_short():
    # The rule's known edge: a picture that really ends in flat mid-grey looks the same.
    pixels = photo_like(640, 480).copy()
    pixels[-48:] = 128

    with pytest.raises(CorruptImage):
        decode_image(encode(pixels, "jpeg", quality=90), max_pixels=CAP, draft_size=224)


def test_a_photo_whose_bottom_tenth_is_another_flat_grey_is_decoded():
    pixels = photo_like(640, 480).copy()
    pixels[-48:] = 120

    decoded = decode_image(encode(pixels, "jpeg", quality=90), max_pixels=CAP, draft_size=224)

    assert decoded.image.size == (320, 240)

"""An embedded ICC profile is converted to sRGB; one that cannot be used leaves the pixels as read.

Expected colours come from the profiles' published primaries and tone curves (icc_profiles.py),
computed with numpy, not from LittleCMS, which does the conversion under test.
"""

import numpy as np
import pytest
from PIL import Image, ImageCms

from kit.photos import encode, near_lossless
from preprocessing.icc import profile_conversion
from preprocessing.pipeline import load_upright_rgb
from tests.preprocessing.icc_profiles import (
    ADOBE_RGB_GAMMA,
    ADOBE_RGB_PRIMARIES,
    P3_PRIMARIES,
    adobe_rgb,
    cmyk_profile,
    display_p3,
    srgb_decode,
    srgb_of,
)

PATCH = 16
P3_RED = (255, 0, 0)
GREY = (128, 128, 128)
MID_COLOURS = [(200, 80, 60), (90, 160, 70), (60, 90, 170), (230, 200, 40)]


def _patches(colours) -> np.ndarray:
    """A row of flat PATCH x PATCH squares, one per colour."""
    return np.concatenate([np.full((PATCH, PATCH, 3), c, np.uint8) for c in colours], axis=1)


def _patch_colours(image: Image.Image, count: int) -> np.ndarray:
    """The centre pixel of each patch of a row made by _patches."""
    pixels = np.asarray(image).astype(int)
    return np.array([pixels[PATCH // 2, PATCH * i + PATCH // 2] for i in range(count)])


def _upright(data: bytes):
    image, metadata = load_upright_rgb(data)
    return image, metadata.colour_profile


def _adobe_decode(values: np.ndarray) -> np.ndarray:
    return values**ADOBE_RGB_GAMMA


@pytest.mark.parametrize("fmt", ["png", "tiff", "webp", "jpeg"])
def test_a_display_p3_photo_becomes_its_srgb_colours(fmt):
    colours = [P3_RED, GREY, *MID_COLOURS]
    data = encode(_patches(colours), fmt, icc_profile=display_p3(), **near_lossless(fmt))

    image, note = _upright(data)

    tolerance = 3 if fmt == "jpeg" else 1
    expected = srgb_of(np.array(colours), P3_PRIMARIES, srgb_decode)
    assert np.abs(_patch_colours(image, len(colours)) - expected).max() <= tolerance
    assert note == "Display P3 -> srgb"


def test_pure_p3_red_ends_at_srgbs_red_and_p3_numbers_are_not_read_as_srgb():
    colours = [P3_RED, *MID_COLOURS]
    data = encode(_patches(colours), "png", icc_profile=display_p3())

    converted = _patch_colours(_upright(data)[0], len(colours))

    assert tuple(converted[0]) == (255, 0, 0)  # outside sRGB: clipped to its most saturated red
    misread = np.abs(converted[1:] - np.array(MID_COLOURS)).max(axis=1)
    assert (misread >= 10).all()  # every P3 colour inside sRGB has other sRGB numbers


@pytest.mark.parametrize("profile", [display_p3, adobe_rgb])
def test_a_neutral_grey_stays_grey(profile):
    greys = [(v, v, v) for v in (20, 64, 128, 200, 250)]
    data = encode(_patches(greys), "png", icc_profile=profile())

    converted = _patch_colours(_upright(data)[0], len(greys))

    assert (converted.max(axis=1) - converted.min(axis=1) <= 1).all()


def test_adobe_rgb_greens_become_their_srgb_colours():
    greens = [(0, 255, 0), (60, 160, 60), (120, 200, 100), (30, 90, 40)]
    data = encode(_patches(greens), "png", icc_profile=adobe_rgb())

    image, note = _upright(data)

    expected = srgb_of(np.array(greens), ADOBE_RGB_PRIMARIES, _adobe_decode)
    assert np.abs(_patch_colours(image, len(greens)) - expected).max() <= 1
    assert note == "Adobe RGB (1998) -> srgb"


def test_a_draft_decoded_jpeg_is_converted_too():
    colour = (90, 160, 70)
    data = encode(np.full((1500, 2000, 3), colour, np.uint8), "jpeg", quality=95,
                  icc_profile=display_p3())

    image, note = _upright(data)

    assert max(image.size) < 1000  # decoded at a DCT scale
    expected = srgb_of(np.array([colour]), P3_PRIMARIES, srgb_decode)[0]
    assert np.abs(np.asarray(image)[100, 100].astype(int) - expected).max() <= 3
    assert note == "Display P3 -> srgb"


def _cream_paper(inks: np.ndarray) -> np.ndarray:
    """A printer whose inks print on cream: each ink mix, as sRGB 0..1."""
    return (1 - inks[:, :3]) * (1 - inks[:, 3:]) * np.array([1.0, 0.94, 0.8])


INKS = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 0, 0, 255)]  # paper, full cyan, full black


def _cmyk_jpeg(**options) -> bytes:
    inks = np.concatenate([np.full((PATCH, PATCH, 4), c, np.uint8) for c in INKS], axis=1)
    return encode(Image.fromarray(inks, "CMYK"), "jpeg", quality=100, **options)


def test_a_cmyk_jpeg_with_a_profile_looks_as_its_profile_says():
    # Pillow writes CMYK JPEGs inverted with an Adobe marker and reads them back un-inverted: the
    # profile sees 0 as no ink, as ICC says. LittleCMS maps the paper to white.
    data = _cmyk_jpeg(icc_profile=cmyk_profile("Cream paper", _cream_paper))

    image, note = _upright(data)

    converted = _patch_colours(image, len(INKS))
    assert np.abs(converted - [(255, 255, 255), (0, 240, 204), (0, 0, 0)]).max() <= 3
    assert note == "Cream paper -> srgb"


def test_a_cmyk_jpeg_without_a_profile_keeps_todays_conversion():
    image, note = _upright(_cmyk_jpeg())

    converted = _patch_colours(image, len(INKS))
    assert np.abs(converted - [(255, 255, 255), (0, 255, 255), (0, 0, 0)]).max() <= 3
    assert note == "none"


def _without_profile(colours) -> np.ndarray:
    return _patch_colours(_upright(encode(_patches(colours), "png"))[0], len(colours))


UNUSABLE = {
    "damaged": (b"not an ICC profile at all", "ignored: damaged"),
    "cut_short": (display_p3()[:150], "ignored: damaged"),
    "for_cmyk_on_rgb": (
        cmyk_profile("Cream paper", _cream_paper),
        "ignored: Cream paper does not fit a RGB image",
    ),
}


@pytest.mark.parametrize("profile, note", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_an_unusable_profile_leaves_the_pixels_as_read_and_says_so(profile, note):
    colours = [P3_RED, *MID_COLOURS]
    data = encode(_patches(colours), "png", icc_profile=profile)

    image, recorded = _upright(data)

    np.testing.assert_array_equal(_patch_colours(image, len(colours)), _without_profile(colours))
    assert recorded == note


def test_an_srgb_profile_leaves_the_pixels_as_they_are():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    colours = [P3_RED, *MID_COLOURS]

    image, note = _upright(encode(_patches(colours), "png", icc_profile=srgb))

    np.testing.assert_array_equal(_patch_colours(image, len(colours)), _without_profile(colours))
    assert note == "srgb"


def test_a_photo_without_a_profile_is_taken_as_srgb():
    assert _upright(encode(_patches(MID_COLOURS), "png"))[1] == "none"


def test_a_profile_on_a_grey_image_is_noted_and_not_applied():
    grey = Image.fromarray(np.full((8, 8), 100, np.uint8))
    grey.info["icc_profile"] = display_p3()

    assert profile_conversion(grey).note == "ignored: a profile on a L image"


def test_the_transform_is_built_once_per_profile():
    first, second = (Image.new("RGB", (4, 4)) for _ in range(2))
    first.info["icc_profile"], second.info["icc_profile"] = display_p3(), display_p3()

    assert profile_conversion(first).transform is profile_conversion(second).transform

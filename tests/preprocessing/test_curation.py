"""Curation signals of the 224 base: sharpness, exposure and a 64-bit perceptual hash.

The directions on real photos are those calibrated in docs/curation.md: a blurred copy is less
sharp, a darkened one darker, an overexposed one more clipped.
"""

import numpy as np
import pytest
from PIL import Image

from kit.real_photos import copy_of, photos
from preprocessing import CurationSignals, process_image
from preprocessing.curation import curation_signals

PHOTOS = photos()
# Outdoor photos of 640x480: the corpus's gps/ set and one field of each crop in img/.
OUTDOOR = [name for name in PHOTOS if name.startswith("gps/") or name.endswith("_01.jpg")]
# Every photo but the two full-size phone photos, which take long to blur.
SMALL = [name for name in PHOTOS if not name.startswith(("mobile/", "bad/"))]


def flat(colour: tuple[int, int, int]) -> np.ndarray:
    return np.full((224, 224, 3), colour, dtype=np.uint8)


def signals_of(data: bytes) -> CurationSignals:
    return process_image(data, n_variants=0).curation


@pytest.fixture(scope="module")
def originals() -> dict[str, CurationSignals]:
    return {name: signals_of(PHOTOS[name]) for name in SMALL}


def test_process_image_carries_the_signals_of_its_base():
    processed = process_image(PHOTOS["maize/maize_01.jpg"], n_variants=0)

    assert processed.curation == curation_signals(processed.base)


def test_a_flat_picture_has_no_sharpness():
    assert curation_signals(flat((90, 140, 60))).sharpness == 0


def test_sharpness_is_the_variance_of_the_laplacian_of_the_luma():
    stripes = flat((0, 0, 0))
    stripes[:, ::2] = 255  # the 4-neighbour Laplacian is -510 on white columns, +510 on black

    assert curation_signals(stripes).sharpness == 510**2


@pytest.mark.parametrize(
    ("colour", "brightness"),
    [((0, 0, 0), 0.0), ((255, 255, 255), 1.0), ((51, 51, 51), 0.2), ((0, 255, 0), 0.58824)],
)
def test_brightness_is_the_mean_bt601_luma_from_black_to_white(colour, brightness):
    assert curation_signals(flat(colour)).brightness == brightness


@pytest.mark.parametrize(
    ("colour", "clipped"),
    [
        ((255, 255, 255), True),
        ((254, 255, 255), True),  # luma 254.7 rounds to 255
        ((0, 0, 1), True),  # luma 0.114 rounds to 0
        ((255, 255, 250), False),  # luma 254.4
        ((255, 255, 0), False),  # a saturated yellow is not clipped white
        ((0, 0, 255), False),
    ],
)
def test_a_pixel_is_clipped_when_its_luma_rounds_to_0_or_255(colour, clipped):
    assert curation_signals(flat(colour)).clipped_fraction == (1.0 if clipped else 0.0)


def test_the_clipped_fraction_is_the_share_of_clipped_pixels():
    picture = flat((120, 120, 120))
    picture[:56] = 255
    picture[-28:] = 0

    assert curation_signals(picture).clipped_fraction == 0.375


def test_the_phash_is_64_bits_as_16_lowercase_hex_digits(originals):
    for signals in originals.values():
        assert len(signals.phash) == 16
        assert set(signals.phash) <= set("0123456789abcdef")


def test_the_phash_has_the_bits_of_imagehash(originals):
    imagehash = pytest.importorskip("imagehash")
    for name in SMALL[:: max(1, len(SMALL) // 12)]:
        base = process_image(PHOTOS[name], n_variants=0).base

        assert originals[name].phash == str(imagehash.phash(Image.fromarray(base))), name


def test_floats_keep_five_significant_digits(originals):
    for signals in originals.values():
        for value in (signals.sharpness, signals.brightness, signals.clipped_fraction):
            assert value == float(f"{value:.5g}")


@pytest.mark.parametrize("name", SMALL)
def test_a_blurred_copy_is_less_sharp(name, originals):
    blurred = signals_of(copy_of(PHOTOS[name], "blur 1px at 224"))

    assert blurred.sharpness < originals[name].sharpness


@pytest.mark.parametrize("name", SMALL)
def test_a_darkened_copy_is_darker(name, originals):
    darkened = signals_of(copy_of(PHOTOS[name], "darken x0.5"))

    assert darkened.brightness < originals[name].brightness


@pytest.mark.parametrize("name", OUTDOOR)
def test_an_overexposed_outdoor_photo_is_brighter_and_more_clipped(name, originals):
    overexposed = signals_of(copy_of(PHOTOS[name], "brighten x2"))

    assert overexposed.brightness > originals[name].brightness
    assert overexposed.clipped_fraction > originals[name].clipped_fraction


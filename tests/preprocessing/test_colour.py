"""Every Pillow mode becomes 8-bit RGB; transparency is composited on white, 16 bits are scaled."""

import numpy as np
import pytest
from PIL import Image

from kit.photos import encode, scene
from preprocessing import process_image
from preprocessing.colour import BACKGROUND, to_rgb
from preprocessing.decode import decode_image

WHITE = (255, 255, 255)


def _decoded(data: bytes) -> Image.Image:
    return decode_image(data, max_pixels=10_000_000).image


def _palette_with_transparent_index() -> Image.Image:
    """A P image whose index 0 is transparent: a left half of index 0, a right half of index 1."""
    indices = np.zeros((40, 60), np.uint8)
    indices[:, 30:] = 1
    image = Image.fromarray(indices, "P")
    image.putpalette([0, 0, 0, 200, 30, 10] + [0] * 762)
    image.info["transparency"] = 0
    return image


def _half_transparent_rgba() -> Image.Image:
    """Dark green everywhere; the left half fully transparent, the right half opaque."""
    pixels = np.zeros((40, 60, 4), np.uint8)
    pixels[..., 1] = 100
    pixels[:, 30:, 3] = 255
    return Image.fromarray(pixels, "RGBA")


MODES = {
    "L": lambda: encode(Image.fromarray(scene()).convert("L"), "png"),
    "LA": lambda: encode(Image.fromarray(scene()).convert("LA"), "png"),
    "P": lambda: encode(Image.fromarray(scene()).convert("P"), "png"),
    "P_transparent": lambda: encode(_palette_with_transparent_index(), "png", transparency=0),
    "RGBA": lambda: encode(_half_transparent_rgba(), "png"),
    "CMYK_jpeg": lambda: encode(Image.fromarray(scene()).convert("CMYK"), "jpeg"),
    "CMYK_tiff": lambda: encode(Image.fromarray(scene()).convert("CMYK"), "tiff"),
    "I;16_png": lambda: encode(Image.fromarray(np.full((80, 120), 40_000, np.uint16)), "png"),
    "1_bit": lambda: encode(Image.fromarray(scene()).convert("1"), "png"),
}


@pytest.mark.parametrize("make", MODES.values(), ids=MODES.keys())
def test_every_mode_gives_a_224x224x3_uint8_tensor(make):
    processed = process_image(make(), n_variants=1)

    assert processed.base.shape == (224, 224, 3)
    assert processed.base.dtype == np.uint8
    assert processed.variants[0].tensor.shape == (224, 224, 3)


@pytest.mark.parametrize("make", MODES.values(), ids=MODES.keys())
def test_every_mode_converts_to_rgb(make):
    assert to_rgb(_decoded(make())).mode == "RGB"


def test_the_documented_background_is_white():
    assert BACKGROUND == WHITE


def test_a_fully_transparent_pixel_becomes_white():
    rgb = np.asarray(to_rgb(_decoded(encode(_half_transparent_rgba(), "png"))))

    assert tuple(rgb[20, 5]) == WHITE


def test_an_opaque_pixel_keeps_its_colour():
    rgb = np.asarray(to_rgb(_decoded(encode(_half_transparent_rgba(), "png"))))

    assert tuple(rgb[20, 50]) == (0, 100, 0)


def test_a_half_transparent_pixel_is_blended_with_white():
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[..., 3] = 128

    rgb = np.asarray(to_rgb(Image.fromarray(pixels, "RGBA")))

    assert np.all(np.abs(rgb.astype(int) - 127) <= 1)


def test_the_transparent_palette_index_becomes_white():
    image = _decoded(encode(_palette_with_transparent_index(), "png", transparency=0))

    rgb = np.asarray(to_rgb(image))

    assert tuple(rgb[20, 5]) == WHITE
    assert tuple(rgb[20, 50]) == (200, 30, 10)


def test_a_transparent_grey_pixel_becomes_white():
    pixels = np.zeros((4, 4, 2), np.uint8)  # black, fully transparent

    rgb = np.asarray(to_rgb(Image.fromarray(pixels, "LA")))

    assert np.all(rgb == 255)


def test_a_grey_image_becomes_equal_channels():
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)

    rgb = np.asarray(to_rgb(_decoded(encode(grey, "png"))))

    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], grey)


def test_a_one_bit_image_becomes_black_and_white():
    bits = np.zeros((8, 8), bool)
    bits[:, 4:] = True
    image = _decoded(encode(Image.fromarray(bits), "png"))
    assert image.mode == "1"

    rgb = np.asarray(to_rgb(image))

    assert np.all(rgb[:, :4] == 0)
    assert np.all(rgb[:, 4:] == 255)


@pytest.mark.parametrize("fmt", ["jpeg", "tiff"])
def test_a_cmyk_file_keeps_its_colours(fmt):
    pixels = scene()
    image = _decoded(encode(Image.fromarray(pixels).convert("CMYK"), fmt))
    assert image.mode == "CMYK"

    rgb = np.asarray(to_rgb(image)).astype(int)

    assert np.abs(rgb - pixels).mean() < 3


def _sixteen_bit_png(values: np.ndarray) -> Image.Image:
    image = _decoded(encode(Image.fromarray(values.astype(np.uint16)), "png"))
    assert image.mode == "I;16"
    return image


def test_sixteen_bit_grey_is_scaled_not_clipped():
    values = np.array([[0, 32768, 65535]])

    rgb = np.asarray(to_rgb(_sixteen_bit_png(values)))

    assert list(rgb[0, :, 0]) == [0, 128, 255]


def test_a_dark_sixteen_bit_image_stays_dark():
    # 200 of 65535 is almost black, whatever the brightest value of the image is.
    values = np.full((4, 4), 200)

    rgb = np.asarray(to_rgb(_sixteen_bit_png(values)))

    assert np.all(rgb <= 1)

"""The working image: converted to RGB and reduced band by band, exactly as the whole would be."""

import numpy as np
import pytest
from PIL import Image

from kit.photos import scene
from preprocessing.colour import to_rgb
from preprocessing.working import BAND_PIXELS, band_rows, reduction_factor, working_rgb

SIZE = 224


def _several_bands(mode: str) -> Image.Image:
    """A 2400x2000 picture in `mode`, tall enough for several bands, brightest in its last band."""
    picture = Image.fromarray(scene(2400, 2000))
    if mode in ("I", "F"):
        values = np.asarray(picture.convert("L"), dtype=np.float64)
        values[-10:] *= 200 if mode == "I" else 1 / 255  # over 255 (I) or within 0..1 (F)
        if mode == "F":
            values[:-10] /= 255
        return Image.fromarray(values.astype(np.int32 if mode == "I" else np.float32), mode)
    if mode == "RGBA":
        rgba = picture.convert("RGBA")
        rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
        return rgba
    return picture.convert(mode)


@pytest.mark.parametrize(
    ("size", "factor"), [((640, 480), 2), ((447, 2000), 1), ((9000, 9000), 40)]
)
def test_the_reduction_leaves_the_shorter_side_between_224_and_447(size, factor):
    assert reduction_factor(size, SIZE) == factor
    assert SIZE <= min(size) // factor < 2 * SIZE or factor == 1


def test_a_band_is_about_a_million_source_pixels_in_whole_reduction_boxes():
    rows = band_rows(2400, 8)

    assert rows % 8 == 0
    assert rows * 2400 <= BAND_PIXELS < (rows + 8) * 2400


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "1", "CMYK", "I;16", "I", "F"])
def test_converting_band_by_band_equals_converting_the_whole_then_reducing(mode):
    picture = _several_bands(mode)
    factor = reduction_factor(picture.size, SIZE)
    assert band_rows(picture.width, factor) < picture.height  # several bands indeed

    expected = to_rgb(picture).reduce(factor)

    np.testing.assert_array_equal(np.asarray(working_rgb(picture, SIZE)), np.asarray(expected))


def test_a_small_rgb_picture_is_used_as_it_is():
    picture = Image.fromarray(scene(400, 300))

    assert working_rgb(picture, SIZE) is picture

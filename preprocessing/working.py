"""The working image: a decoded picture in RGB, shrunk to just above the tensors' size, in bands.

The base tensor and the variants never need more than a shorter side of 2 x SIZE. JPEG gets near
that while decoding (DCT scaling); every format is then shrunk by an integer box filter
(`Image.reduce`) to a shorter side of SIZE..2 x SIZE - 1. Bands of a few rows are converted to RGB
and reduced one at a time, so no full-size copy is ever made beside the decoder's own picture:
that picture can be freed as soon as the working image exists. An RGB picture is reduced first
and converted after (only an embedded profile changes it): the transform runs on few pixels.
"""

from __future__ import annotations

import math

from PIL import Image

from preprocessing.colour import rgb_converter

# Source pixels converted at once.
BAND_PIXELS = 1 << 20


def reduction_factor(size: tuple[int, int], target: int) -> int:
    """The integer factor that brings the shorter side to target..2 x target - 1 (1: no change)."""
    return max(1, min(size) // target)


def band_rows(width: int, factor: int) -> int:
    """Rows of the source per band: about BAND_PIXELS, a whole number of reduction boxes."""
    return max(1, BAND_PIXELS // (width * factor)) * factor


def working_rgb(image: Image.Image, target: int) -> Image.Image:
    """The RGB working image of a decoded picture; the picture itself when already RGB and small."""
    factor = reduction_factor(image.size, target)
    convert = rgb_converter(image)
    if image.mode == "RGB":
        return convert(image.reduce(factor) if factor > 1 else image)
    width, height = image.size
    rows = band_rows(width, factor)
    working = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
    for top in range(0, height, rows):
        band = convert(image.crop((0, top, width, min(height, top + rows))))
        working.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return working

"""The core's Pillow resampling as it was before the one-warp variants (issue 10 §3).

The baseline that bench/core_throughput.py times our variants and base tensor against, and that
tests/preprocessing/test_augment.py and test_resize.py compare their quality with.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageEnhance

from preprocessing.augment import AugmentParams
from preprocessing.resize import SIZE

# Pillow first shrinks by an integer box filter while the image is over 3x the target, then
# resamples: indistinguishable from a full antialiased resize, and several times faster.
REDUCING_GAP = 3.0


def pillow_variant(image: Image.Image, params: AugmentParams, size: int = SIZE) -> np.ndarray:
    """Crop-resize, flip, rotate, then three colour enhancements: four resamplings in Pillow."""
    width, height = image.size
    radians = math.radians(params.angle)
    margin = abs(math.cos(radians)) + abs(math.sin(radians))
    crop_w = math.sqrt(params.scale * width * height * params.ratio)
    crop_h = math.sqrt(params.scale * width * height / params.ratio)
    fit = min(1.0, width / (crop_w * margin), height / (crop_h * margin))
    box_w = min(width, crop_w * fit * margin)
    box_h = min(height, crop_h * fit * margin)
    left = params.centre_x * (width - box_w)
    top = params.centre_y * (height - box_h)
    padded = math.ceil(size * margin) + 2
    view = image.resize(
        (padded, padded),
        Image.Resampling.BILINEAR,
        box=(left, top, left + box_w, top + box_h),
        reducing_gap=REDUCING_GAP,
    )
    if params.flip:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    view = view.rotate(params.angle, resample=Image.Resampling.BILINEAR)
    offset = (padded - size) // 2
    view = view.crop((offset, offset, offset + size, offset + size))
    view = ImageEnhance.Brightness(view).enhance(params.brightness)
    view = ImageEnhance.Contrast(view).enhance(params.contrast)
    view = ImageEnhance.Color(view).enhance(params.saturation)
    return np.asarray(view, dtype=np.uint8)


def centre_square(width: int, height: int) -> tuple[float, float, float, float]:
    """The largest centred square of a width x height image, as a Pillow box."""
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    return (left, top, left + side, top + side)


def pillow_base_tensor(image: Image.Image, size: int = SIZE) -> np.ndarray:
    """The centre square, antialiased to size x size by Pillow's bilinear filter."""
    square = image.resize(
        (size, size),
        Image.Resampling.BILINEAR,
        box=centre_square(*image.size),
        reducing_gap=REDUCING_GAP,
    )
    return np.asarray(square, dtype=np.uint8)

"""Bring every Pillow mode to 8-bit sRGB, compositing transparency on a fixed background.

An RGB or CMYK image with an embedded ICC profile is converted through it (preprocessing/icc.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from PIL import Image

from preprocessing.icc import profile_conversion

# Transparent pixels become white: a neutral, bright field-card background, documented in
# docs/preprocessing.md. Changing it changes every tensor of a transparent image.
BACKGROUND = (255, 255, 255)

_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "La", "RGBa"}

Converter = Callable[[Image.Image], Image.Image]


def to_rgb(image: Image.Image) -> Image.Image:
    """Return an RGB copy (or the image itself when already RGB) with alpha composited."""
    return rgb_converter(image)(image)


def rgb_converter(image: Image.Image) -> Converter:
    """The conversion to RGB for this image, decided once from the whole of it.

    It can then be applied to bands (crops) of the image one at a time, each converting exactly
    as the whole would: the scale of 32-bit and float greys comes from the whole image's values,
    the embedded profile's transform from the whole image's info.
    """
    transform = profile_conversion(image).transform
    if transform is not None:
        return transform.apply
    if image.mode == "RGB":
        return _unchanged
    if image.mode in _SIXTEEN_BIT or image.mode in ("I", "F"):
        return partial(_scaled_grey_to_rgb, scale=_depth_scale(image))
    if image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        return _composited_on_background
    return _plain_conversion


def _unchanged(image: Image.Image) -> Image.Image:
    return image


def _plain_conversion(image: Image.Image) -> Image.Image:
    return image.convert("RGB")


def _composited_on_background(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _depth_scale(image: Image.Image) -> float:
    """Scale 16-bit, 32-bit integer and float greys to 0..255 instead of clipping them."""
    if image.mode in _SIXTEEN_BIT:
        return 255.0 / 65535.0  # a 16-bit value means the same whatever else the image holds
    brightest = max(float(image.getextrema()[1]), 0.0)
    if image.mode == "F":
        return 255.0 if brightest <= 1.0 else 1.0
    return 255.0 / 65535.0 if brightest > 255 else 1.0


def _scaled_grey_to_rgb(image: Image.Image, scale: float) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")

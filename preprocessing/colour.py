"""Bring every Pillow mode to 8-bit RGB, compositing transparency on a fixed background."""

from __future__ import annotations

import numpy as np
from PIL import Image

# Transparent pixels become white: a neutral, bright field-card background, documented in
# docs/preprocessing.md. Changing it changes every tensor of a transparent image.
BACKGROUND = (255, 255, 255)

_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}


def to_rgb(image: Image.Image) -> Image.Image:
    """Return an RGB copy (or the image itself when already RGB) with alpha composited."""
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT or image.mode in ("I", "F"):
        return _high_depth_to_rgb(image)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _high_depth_to_rgb(image: Image.Image) -> Image.Image:
    """Scale 16-bit, 32-bit integer and float greys to 0..255 instead of clipping them."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        scale = 255.0 if values.max(initial=0.0) <= 1.0 else 1.0
    elif image.mode in _SIXTEEN_BIT:
        scale = 255.0 / 65535.0  # a 16-bit value means the same whatever else the image holds
    else:
        scale = 255.0 / 65535.0 if values.max(initial=0.0) > 255 else 1.0
    grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")

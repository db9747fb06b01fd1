"""Augmented variants: parameters drawn from (image id, k), then applied by a pure function.

Drawing and applying are separate (as in torchvision.transforms.v2), so the same (id, k) always
gives the same parameters and the same bytes, and the parameters can be logged beside each tensor.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageEnhance

from preprocessing.resize import REDUCING_GAP, SIZE

# Documented in docs/preprocessing.md; mild enough that a crop is still recognisable.
SCALE_RANGE = (0.5, 1.0)  # crop area as a fraction of the image area
RATIO_RANGE = (3 / 4, 4 / 3)  # crop width / height, drawn log-uniformly
MAX_ANGLE = 15.0  # degrees either way
JITTER_RANGE = (0.8, 1.2)  # brightness, contrast and saturation factors


@dataclass(frozen=True)
class AugmentParams:
    """One variant's recipe, independent of the image's size."""

    scale: float
    ratio: float
    centre_x: float  # where the crop sits in its free horizontal range, 0..1
    centre_y: float
    flip: bool
    angle: float
    brightness: float
    contrast: float
    saturation: float

    def as_dict(self) -> dict:
        return asdict(self)


def draw_params(image_id: str, k: int) -> AugmentParams:
    """The parameters of variant k of an image: a pure function of (image_id, k)."""
    seed = int.from_bytes(hashlib.sha256(f"{image_id}:{k}".encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    log_ratio = rng.uniform(math.log(RATIO_RANGE[0]), math.log(RATIO_RANGE[1]))
    return AugmentParams(
        scale=float(rng.uniform(*SCALE_RANGE)),
        ratio=float(math.exp(log_ratio)),
        centre_x=float(rng.uniform()),
        centre_y=float(rng.uniform()),
        flip=bool(rng.uniform() < 0.5),
        angle=float(rng.uniform(-MAX_ANGLE, MAX_ANGLE)),
        brightness=float(rng.uniform(*JITTER_RANGE)),
        contrast=float(rng.uniform(*JITTER_RANGE)),
        saturation=float(rng.uniform(*JITTER_RANGE)),
    )


def apply_params(image: Image.Image, params: AugmentParams, size: int = SIZE) -> np.ndarray:
    """Crop, resize, flip, rotate and colour-jitter an RGB image into a size x size x 3 array.

    The crop is enlarged by the rotation's corner margin before resizing, so the rotated result
    is centre-cropped with no empty corners; the crop shrinks where that margin would leave the
    image.
    """
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

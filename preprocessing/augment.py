"""Augmented variants: parameters drawn from (image id, k), then applied by a pure function.

Drawing and applying are separate (as in torchvision.transforms.v2), so the same (id, k) always
gives the same parameters and the same bytes, and the parameters can be logged beside each tensor.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from preprocessing.opencv import cv2, warp_rgb, warp_source
from preprocessing.resize import SIZE

# Documented in docs/preprocessing.md; mild enough that a crop is still recognisable.
SCALE_RANGE = (0.5, 1.0)  # crop area as a fraction of the image area
RATIO_RANGE = (3 / 4, 4 / 3)  # crop width / height, drawn log-uniformly
MAX_ANGLE = 15.0  # degrees either way
JITTER_RANGE = (0.8, 1.2)  # brightness, contrast and saturation factors

# ITU-R 601 luma, as Pillow's convert("L") weighs R, G and B.
LUMA = np.array([0.299, 0.587, 0.114])


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


def apply_params(
    image: Image.Image | np.ndarray, params: AugmentParams, size: int = SIZE
) -> np.ndarray:
    """Crop, resize, flip, rotate and colour-jitter an RGB image into a size x size x 3 array.

    The geometry is one affine warp (one bilinear resampling) and the colour one 3x4 matrix.
    """
    source = warp_source(image)
    height, width = source.shape[:2]
    warped = warp_rgb(source, variant_matrix(params, width, height, size), size)
    return cv2.transform(warped, colour_matrix(params, warped))


def variant_matrix(params: AugmentParams, width: int, height: int, size: int = SIZE) -> np.ndarray:
    """The 2x3 matrix taking a pixel of the size x size variant to where it samples the image.

    The crop (scale, ratio) is grown by the rotation's corner margin and shrunk where that would
    leave the image, so the rotated square never reaches past the image's edge: no empty corners.
    The square is then flipped and rotated about its centre (counter-clockwise on screen).
    """
    radians = math.radians(params.angle)
    cos, sin = math.cos(radians), math.sin(radians)
    margin = abs(cos) + abs(sin)
    crop_w = math.sqrt(params.scale * width * height * params.ratio)
    crop_h = math.sqrt(params.scale * width * height / params.ratio)
    fit = min(1.0, width / (crop_w * margin), height / (crop_h * margin))
    box_w = min(width, crop_w * fit * margin)
    box_h = min(height, crop_h * fit * margin)
    centre_x = params.centre_x * (width - box_w) + box_w / 2
    centre_y = params.centre_y * (height - box_h) + box_h / 2
    # Image pixels per variant pixel; the two spare pixels keep the corners clear of the edge.
    padded = math.ceil(size * margin) + 2
    step_x, step_y = box_w / padded, box_h / padded
    mirror = -1.0 if params.flip else 1.0
    # Offsets from the variant's centre, rotated back, mirrored, then scaled into the box.
    linear = np.array(
        [[mirror * step_x * cos, -mirror * step_x * sin], [step_y * sin, step_y * cos]]
    )
    # cv2 indexes pixel centres: pixel i spans i..i+1, so a position x is index x - 0.5.
    centre = np.array([centre_x, centre_y]) - 0.5
    offset = centre + linear @ np.full(2, (1 - size) / 2)
    return np.hstack([linear, offset[:, None]])


def colour_matrix(params: AugmentParams, warped: np.ndarray) -> np.ndarray:
    """The 3x4 matrix doing Pillow's brightness, contrast and saturation enhancements at once.

    Brightness scales; contrast blends with the mean luma (of the brightened picture); saturation
    blends each pixel with its own luma, which leaves a grey value as it is.
    """
    brightness, contrast, saturation = params.brightness, params.contrast, params.saturation
    mean_luma = brightness * float(np.dot(LUMA, cv2.mean(warped)[:3]))
    towards_luma = saturation * np.eye(3) + (1 - saturation) * np.outer(np.ones(3), LUMA)
    linear = contrast * brightness * towards_luma
    offset = np.full((3, 1), (1 - contrast) * mean_luma)
    return np.hstack([linear, offset]).astype(np.float32)

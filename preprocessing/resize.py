"""The base tensor's resize policy: the centre square, resampled to SIZE x SIZE."""

from __future__ import annotations

import numpy as np
from PIL import Image

from preprocessing.opencv import cv2, warp_rgb, warp_source

SIZE = 224


def base_tensor(image: Image.Image | np.ndarray, size: int = SIZE) -> np.ndarray:
    """A size x size x 3 uint8 array (HWC) of an RGB image's centre square.

    The working image (working.py) is under 2 x size on its shorter side, where one bilinear
    resample reads every source pixel; a larger image is first box-reduced by an integer factor
    to get there.
    """
    source = warp_source(image)
    height, width = source.shape[:2]
    factor = min(width, height) // size
    if factor >= 2:
        height, width = height // factor, width // factor
        source = cv2.resize(source, (width, height), interpolation=cv2.INTER_AREA)
    return warp_rgb(source, centre_square_matrix(width, height, size), size)


def centre_square_matrix(width: int, height: int, size: int = SIZE) -> np.ndarray:
    """The 2x3 matrix taking a pixel of the size x size tensor to where it samples the image.

    The square sits at a half pixel where width - height is odd, as Pillow's box would.
    """
    side = min(width, height)
    step = side / size
    # cv2 indexes pixel centres: pixel i spans i..i+1, so a position x is index x - 0.5.
    left = (width - side) / 2 + step / 2 - 0.5
    top = (height - side) / 2 + step / 2 - 0.5
    return np.array([[step, 0.0, left], [0.0, step, top]])

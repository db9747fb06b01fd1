"""Curation signals of one photo, from its 224x224 base tensor so batch, stream and API agree.

Every signal is read from the luma of the base tensor (a fixed scale, whatever the upload's size),
so a photo and a resized copy of it are measured alike. docs/curation.md has the scales and the
numbers measured on real photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

HASH_SIDE = 8  # the hash keeps the 8x8 lowest frequencies: 64 bits
DCT_SIDE = 32  # the luma is shrunk to 32x32 before its DCT (imagehash's highfreq_factor 4)
SIGNIFICANT_DIGITS = 5


@dataclass(frozen=True)
class CurationSignals:
    """What a curator filters on: is the photo sharp, well exposed, and which scene is it."""

    sharpness: float  # variance of the 3x3 Laplacian of the luma, in grey levels squared
    brightness: float  # mean luma, 0 (black) to 1 (white)
    clipped_fraction: float  # share of pixels whose luma is 0 or 255
    phash: str  # 64-bit perceptual hash, 16 lowercase hex digits


def curation_signals(base: np.ndarray) -> CurationSignals:
    """The signals of a 224x224x3 uint8 base tensor."""
    luma = luma_of(base)
    return CurationSignals(
        sharpness=rounded(laplacian_variance(luma)),
        brightness=rounded(luma.mean() / 255),
        clipped_fraction=rounded(np.mean((luma == 0) | (luma == 255))),
        phash=perceptual_hash(luma),
    )


def luma_of(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma as uint8, rounded exactly as Pillow's convert("L") does."""
    weighted = rgb.astype(np.uint32) @ np.array([19595, 38470, 7471], dtype=np.uint32)
    return ((weighted + 32768) >> 16).astype(np.uint8)


def laplacian_variance(luma: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian over the interior: low means blurred or flat.

    In integers, which are exact and 5x faster here than floats; var() sums them as floats.
    """
    grey = luma.astype(np.int32)
    laplacian = (
        grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]
    )
    return float(laplacian.var())


def dct_matrix(n: int) -> np.ndarray:
    """The unnormalised DCT-II as a matrix: row k holds cos(pi * k * (2i + 1) / 2n)."""
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    return np.cos(np.pi * k * (2 * i + 1) / (2 * n))


DCT = dct_matrix(DCT_SIDE)


def perceptual_hash(luma: np.ndarray) -> str:
    """pHash: the 8x8 lowest DCT frequencies of the luma at 32x32, each bit above their median.

    The same bits as imagehash.phash (4.3.2) of the same picture, without scipy.
    """
    small = Image.fromarray(luma).resize((DCT_SIDE, DCT_SIDE), Image.Resampling.LANCZOS)
    frequencies = DCT @ np.asarray(small, dtype=np.float64) @ DCT.T
    lowest = frequencies[:HASH_SIDE, :HASH_SIDE]
    bits = (lowest > np.median(lowest)).ravel()
    return f"{int(''.join('1' if bit else '0' for bit in bits), 2):016x}"


def rounded(value: float) -> float:
    """A float kept to SIGNIFICANT_DIGITS, so platforms that differ in the last bits agree."""
    return float(f"{float(value):.{SIGNIFICANT_DIGITS}g}")

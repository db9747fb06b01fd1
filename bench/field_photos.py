"""Uploads as phones send them, for the stress test: real JPEGs with EXIF, at phone sizes.

The pictures are img/'s samples (EXIF GPS in 3 of 4, some stored turned with their
Orientation tag), re-encoded at three sizes in a fixed mix; the larger ones get a little
sensor-like noise, so that they weigh what a phone's JPEG weighs (~3.5 MB at 12 MP). Every
upload carries a fresh EXIF ImageUniqueID, so its bytes, and so its image id, are new: the API
and the stream see a new photo each time, as they would from the field.
"""

from __future__ import annotations

import functools
import io
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

import piexif
from PIL import Image, ImageChops

from settings import PROJECT_ROOT

SAMPLES = sorted((PROJECT_ROOT / "img").glob("*/*.jpg"))


@dataclass(frozen=True)
class Size:
    """A size class: the long side (4:3), JPEG quality, share of uploads, samples used (every n-th:
    encoding a 12 MP picture takes ~0.5 s, paid once per sample and process)."""

    width: int
    quality: int
    share: float
    every: int


SIZES = {
    "640x480": Size(640, 80, 0.6, 1),  # the samples as they are
    "1600x1200": Size(1600, 85, 0.3, 2),  # a phone photo, downscaled by its app
    "4000x3000": Size(4000, 90, 0.1, 4),  # a phone's full 12 MP photo
}
NOISE_SIGMA = 6
UNIQUE_ID_LENGTH = 32  # uuid4().hex
PLACEHOLDER = b"u" * UNIQUE_ID_LENGTH


@dataclass(frozen=True)
class Photo:
    """One upload: the file's bytes, its crop (the sample's folder) and its size class."""

    data: bytes
    crop: str
    size: str


@functools.cache
def noise(width: int, height: int) -> Image.Image:
    return Image.effect_noise((width, height), NOISE_SIGMA).convert("RGB")


@functools.cache
def encoded(sample: Path, size: str) -> bytes:
    """`sample`'s pixels (as stored) at `size`, with its EXIF plus a placeholder
    ImageUniqueID; made once per process."""
    width, quality = SIZES[size].width, SIZES[size].quality
    with Image.open(sample) as image:
        exif = piexif.load(image.info["exif"])
        scale = width / max(image.size)  # the long side: some samples are stored turned
        if scale != 1:
            stored = (round(image.width * scale), round(image.height * scale))
            image = image.resize(stored, Image.Resampling.BICUBIC)
            image = ImageChops.add(image, noise(*stored), offset=-128)
        exif["Exif"][piexif.ExifIFD.ImageUniqueID] = PLACEHOLDER
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, exif=piexif.dump(exif))
    return buffer.getvalue()


def new_photo(rng: random.Random) -> Photo:
    """A sample at a size drawn from the mix, made unique by its ImageUniqueID."""
    size = rng.choices(list(SIZES), weights=[size.share for size in SIZES.values()])[0]
    sample = rng.choice(SAMPLES[:: SIZES[size].every])
    data = encoded(sample, size).replace(PLACEHOLDER, uuid.uuid4().hex.encode(), 1)
    return Photo(data, sample.parent.name, size)


def warm() -> None:
    """Encode every picture of the mix now, so that no upload waits for it later."""
    for name, size in SIZES.items():
        for sample in SAMPLES[:: size.every]:
            encoded(sample, name)

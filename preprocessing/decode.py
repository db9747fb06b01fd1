"""Turn bytes into a decoded Pillow image, refusing bombs and damaged data with typed errors."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image

from preprocessing.errors import CorruptImage, TooManyPixels
from preprocessing.formats import FORMATS, sniff_format

pillow_heif.register_heif_opener()


@dataclass(frozen=True)
class DecodedImage:
    """A decoded first frame with the facts of the file it came from."""

    image: Image.Image
    format: str
    width: int
    height: int


def decode_image(data: bytes, *, max_pixels: int, draft_size: int | None = None) -> DecodedImage:
    """Decode the first frame of `data`, checking the pixel cap from the header before decoding.

    For JPEG, `draft_size` lets libjpeg decode at a DCT scale (1/2, 1/4, 1/8) whose result is
    still at least draft_size on both sides, so a 12 MP photo is never fully decoded to make a
    224 px tensor.
    """
    fmt = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[FORMATS[fmt][0]])
    except Image.DecompressionBombError as error:
        raise TooManyPixels(str(error)) from error
    except Exception as error:
        raise CorruptImage(f"cannot read the {fmt} header: {error}") from error
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptImage(f"the {fmt} header declares an empty {width}x{height} image")
    if width * height > max_pixels:
        raise TooManyPixels(
            f"{width}x{height} is {width * height:,} pixels, over the cap of {max_pixels:,}"
        )
    if fmt == "jpeg" and draft_size:
        image.draft("RGB", (draft_size, draft_size))
    try:
        image.load()
    except Exception as error:
        raise CorruptImage(f"the {fmt} data cannot be decoded: {error}") from error
    return DecodedImage(image=image, format=fmt, width=width, height=height)

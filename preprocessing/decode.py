"""Turn bytes into a decoded Pillow image, refusing bombs and damaged data with typed errors."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image

from preprocessing.errors import CorruptImage, TooManyPixels
from preprocessing.formats import FORMATS, sniff_format
from preprocessing.orientation import stored_orientation

pillow_heif.register_heif_opener()

# Readers that hand over the picture already upright (Pillow's TIFF plugin; libheif, which applies
# HEIF's rotation and mirror properties) and so report the upright size of an image stored on its
# side. We report the stored size, as for every other format.
_ORIENTED_BY_READER = {"tiff", "heif"}


@dataclass(frozen=True)
class DecodedImage:
    """A decoded first frame with the facts of the file it came from.

    width, height and orientation describe the file as stored (its EXIF Orientation tag, 1..8),
    whatever the reader did with them.
    """

    image: Image.Image
    format: str
    width: int
    height: int
    orientation: int


def decode_image(data: bytes, *, max_pixels: int, draft_size: int | None = None) -> DecodedImage:
    """Decode the first frame of `data`, checking the pixel cap from the header before decoding.

    For JPEG, `draft_size` lets libjpeg decode at a DCT scale (1/2, 1/4, 1/8) whose result is
    still at least draft_size on both sides, so a 12 MP photo is never fully decoded to make a
    224 px tensor.
    """
    fmt = sniff_format(data)
    name = FORMATS[fmt][0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[name])
    except Image.DecompressionBombError as error:  # Pillow's own cap: twice MAX_IMAGE_PIXELS
        cap = min(max_pixels, 2 * (Image.MAX_IMAGE_PIXELS or max_pixels))
        raise TooManyPixels(f"the image declares more than {cap:,} pixels, over the cap") from error
    except Exception as error:
        damaged = f"the file starts like a {name} image but its header is damaged"
        raise CorruptImage(damaged) from error
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptImage(f"the {name} header declares an empty {width}x{height} image")
    if width * height > max_pixels:
        raise TooManyPixels(
            f"{width}x{height} is {width * height:,} pixels, over the cap of {max_pixels:,}"
        )
    # The TIFF reader drops the tag as it loads, so read it first there; the PNG reader must load
    # (decode) to find its tag, so read it after the pixel cap and the load everywhere else.
    oriented_by_reader = fmt in _ORIENTED_BY_READER
    orientation = stored_orientation(image) if oriented_by_reader else 1
    if fmt == "jpeg" and draft_size:
        image.draft("RGB", (draft_size, draft_size))
    try:
        image.load()
    except Exception as error:
        raise CorruptImage(f"the {name} image data is damaged or cut short") from error
    if not oriented_by_reader:
        orientation = stored_orientation(image)
    elif orientation >= 5:
        width, height = height, width  # the reader's size was the upright one
    return DecodedImage(
        image=image, format=fmt, width=width, height=height, orientation=orientation
    )

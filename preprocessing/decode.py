"""Turn bytes into a decoded Pillow image, refusing bombs and damaged data with typed errors.

Before a pixel is decoded, the header's size is checked against the pixel cap and the memory the
decode will take (preprocessing/memory.py) against the memory cap. With a draft size, the
picture is then brought to its working size in RGB (working.py) and the full-size decode is
freed as the decode returns; its blocks go back to the operating system (memory.py).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image

from preprocessing.errors import CorruptImage, TooManyPixels
from preprocessing.formats import FORMATS, sniff_format
from preprocessing.icc import profile_conversion
from preprocessing.memory import MB, decoder_bytes, return_large_blocks_when_freed, working_bytes
from preprocessing.orientation import stored_orientation
from preprocessing.working import band_rows, reduction_factor, working_rgb

pillow_heif.register_heif_opener()

# Readers that hand over the picture already upright (Pillow's TIFF plugin; libheif, which applies
# HEIF's rotation and mirror properties) and so report the upright size of an image stored on its
# side. We report the stored size, as for every other format.
_ORIENTED_BY_READER = {"tiff", "heif"}

# Where libjpeg runs out of data it writes blocks of zero coefficients: mid-grey, 128 in every
# channel (127 once Pillow inverts an Adobe CMYK file). A JPEG whose bottom tenth is nothing but
# that value was cut short or declares more rows than its data holds; docs/preprocessing.md.
JPEG_FILL_VALUE = 128
MISSING_DATA_FRACTION = 0.1


@dataclass(frozen=True)
class DecodedImage:
    """A decoded first frame with the facts of the file it came from.

    width, height and orientation describe the file as stored (its EXIF Orientation tag, 1..8),
    whatever the reader did with them; `pending_orientation` is what is left to apply to `image`
    (1 where the reader applied it). `colour_profile` says what the embedded ICC profile means
    for the conversion to sRGB (preprocessing/icc.py), done in the working image.
    """

    image: Image.Image
    format: str
    width: int
    height: int
    orientation: int
    pending_orientation: int
    colour_profile: str


@dataclass(frozen=True)
class _Header:
    """An opened, not yet decoded file that passed both caps."""

    image: Image.Image
    format: str
    width: int
    height: int
    orientation: int | None  # None until decoded, for readers that find the tag only then
    decode_bytes: int


def decode_image(
    data: bytes,
    *,
    max_pixels: int,
    max_decode_mb: int | None = None,
    draft_size: int | None = None,
) -> DecodedImage:
    """Decode the first frame of `data`, checking both caps from the header before decoding.

    Without `draft_size`, the image comes back full size in the file's own mode. With it, it
    comes back as the RGB working image whose shorter side is draft_size..2 x draft_size - 1
    (or its full size when smaller): JPEG is decoded at a DCT scale (1/2, 1/4, 1/8), so a 12 MP
    photo is never fully decoded to make a 224 px tensor, and every format is then reduced.
    """
    return_large_blocks_when_freed()
    header = _read_header(
        data, max_pixels=max_pixels, max_decode_mb=max_decode_mb, draft_size=draft_size
    )
    return _decode(header, draft_size)


def decode_cost(
    data: bytes, *, max_pixels: int, max_decode_mb: int | None = None, draft_size: int | None = None
) -> int:
    """The estimated peak bytes of decode_image with the same arguments, from the header alone.

    Raises what decode_image raises before decoding (unsupported, unreadable header, either cap).
    """
    return _read_header(
        data, max_pixels=max_pixels, max_decode_mb=max_decode_mb, draft_size=draft_size
    ).decode_bytes


def _read_header(
    data: bytes, *, max_pixels: int, max_decode_mb: int | None, draft_size: int | None
) -> _Header:
    """Open `data` without decoding it; refuse it when over the pixel cap or the memory cap."""
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
    # (decode) to find its tag, so read it after the caps and the load everywhere else.
    orientation = stored_orientation(image) if fmt in _ORIENTED_BY_READER else None
    if fmt == "jpeg" and draft_size:
        image.draft("RGB", (draft_size, draft_size))
    cost = decoder_bytes(image, fmt, data, (width, height))
    if draft_size:
        factor = reduction_factor(image.size, draft_size)
        cost += working_bytes(image.size, factor, band_rows(image.size[0], factor))
    if max_decode_mb is not None and cost > max_decode_mb * MB:
        raise TooManyPixels(
            f"decoding this {width}x{height} {name} image would take about "
            f"{cost / MB:,.0f} MB of memory, over the limit of {max_decode_mb:,} MB"
        )
    return _Header(image, fmt, width, height, orientation, cost)


def _decode(header: _Header, draft_size: int | None) -> DecodedImage:
    image, fmt = header.image, header.format
    try:
        image.load()
    except Exception as error:
        raise CorruptImage(f"the {FORMATS[fmt][0]} image data is damaged or cut short") from error
    if fmt == "jpeg":
        _refuse_missing_jpeg_data(image)
    width, height, orientation = header.width, header.height, header.orientation
    if orientation is None:
        orientation = pending = stored_orientation(image)
    else:
        pending = 1  # the reader applied it
        if orientation >= 5:
            width, height = height, width  # the reader's size was the upright one
    picture = working_rgb(image, draft_size) if draft_size else image
    return DecodedImage(
        image=picture,
        format=fmt,
        width=width,
        height=height,
        orientation=orientation,
        pending_orientation=pending,
        colour_profile=profile_conversion(image).note,
    )


def _refuse_missing_jpeg_data(image: Image.Image) -> None:
    """CorruptImage when the bottom tenth of the picture is only libjpeg's fill for missing data."""
    width, height = image.size
    band = image.crop((0, height - max(1, int(height * MISSING_DATA_FRACTION)), width, height))
    extrema = band.getextrema()
    channels = extrema if isinstance(extrema[0], tuple) else (extrema,)
    fill = 255 - JPEG_FILL_VALUE if image.mode == "CMYK" else JPEG_FILL_VALUE
    if all(channel == (fill, fill) for channel in channels):
        raise CorruptImage(
            f"the JPEG data ends early: at least the bottom {MISSING_DATA_FRACTION:.0%} of the "
            "picture is missing (a cut-off upload, or a header declaring more than the data holds)"
        )

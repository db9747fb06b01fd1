"""Synthetic image files for tests and benchmarks, made here from numpy arrays.

Nothing is copied from the corpus: every fixture is built from a known array, so a test can say
what the right answer is. EXIF is written with piexif, an encoder independent of the reader.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib

import numpy as np
import piexif
import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

# Our format name -> Pillow's save format.
SAVE_AS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF", "heif": "HEIF"}


def scene(width: int = 120, height: int = 80) -> np.ndarray:
    """An asymmetric RGB picture: red rises left to right, green rises top to bottom, and a blue
    block sits in the top-left corner. Every flip and rotation of it is a different array."""
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[..., 0] = np.arange(width) * 255 // max(width - 1, 1)
    pixels[..., 1] = (np.arange(height) * 255 // max(height - 1, 1))[:, None]
    pixels[..., 2] = 30
    pixels[: height // 4, : width // 4, 2] = 230
    return pixels


def photo_like(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour field with a few hard-edged blocks: compresses like a photo."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(height // 100 + 2, width // 100 + 2, 3)).astype(np.uint8)
    field = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(field).copy()
    for _ in range(12):
        top, left = rng.integers(0, height - 50), rng.integers(0, width - 50)
        bottom, right = top + rng.integers(20, 400), left + rng.integers(20, 400)
        pixels[top:bottom, left:right] = rng.integers(0, 256, size=3)
    return pixels


@functools.cache
def large_photo_jpeg() -> bytes:
    """A 3000x2000 photo-like JPEG: large enough for libjpeg to decode it at 1/8 scale."""
    return encode(photo_like(3000, 2000), "jpeg", quality=90)


def encode(pixels: np.ndarray | Image.Image, fmt: str, **options) -> bytes:
    """The bytes of `pixels` saved as `fmt` (a key of SAVE_AS) with Pillow's save options."""
    return save_as(pixels, SAVE_AS[fmt], **options)


def save_as(pixels: np.ndarray | Image.Image, pillow_format: str, **options) -> bytes:
    """The bytes of `pixels` saved by Pillow in any format it writes (GIF, BMP, ...)."""
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()


def near_lossless(fmt: str) -> dict:
    """Save options that keep a synthetic picture close to its array in each format."""
    return {
        "jpeg": {"quality": 95, "subsampling": 0},
        "png": {},
        "webp": {"lossless": True},
        "tiff": {},
        "heif": {"quality": 95},
    }[fmt]


def store_for_orientation(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels of a file whose EXIF Orientation tag says how to show `upright`.

    Straight from the EXIF definition of the tag: where the stored image's row 0 and column 0 lie
    in the upright scene (1: top/left, 2: top/right, 3: bottom/right, 4: bottom/left, 5: left/top,
    6: right/top, 7: right/bottom, 8: left/bottom).
    """
    height, width = upright.shape[:2]
    stored_shape = (width, height) if orientation >= 5 else (height, width)
    rows, cols = np.indices(stored_shape)
    source = {
        1: (rows, cols),
        2: (rows, width - 1 - cols),
        3: (height - 1 - rows, width - 1 - cols),
        4: (height - 1 - rows, cols),
        5: (cols, rows),
        6: (cols, width - 1 - rows),
        7: (height - 1 - cols, width - 1 - rows),
        8: (height - 1 - cols, rows),
    }[orientation]
    return upright[source]


def dms(degrees: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Unsigned decimal degrees as EXIF degrees/minutes/seconds rationals (seconds to 1/1000)."""
    whole = int(degrees)
    minutes_float = (degrees - whole) * 60
    minutes = int(minutes_float)
    seconds = round((minutes_float - minutes) * 60 * 1000)
    return ((whole, 1), (minutes, 1), (seconds, 1000))


def exif_bytes(
    *,
    orientation: int | None = None,
    make: str | None = None,
    model: str | None = None,
    taken: str | None = None,
    offset: str | None = None,
    modified: str | None = None,
    modified_offset: str | None = None,
    gps: dict | None = None,
) -> bytes:
    """An EXIF block (as piexif.dump makes it) with only the given tags; `gps` is a raw GPS IFD.

    `taken` is DateTimeOriginal with OffsetTimeOriginal `offset`; `modified` is IFD0's DateTime
    with OffsetTime `modified_offset`.
    """
    zeroth: dict = {}
    exif: dict = {}
    if orientation is not None:
        zeroth[piexif.ImageIFD.Orientation] = orientation
    if make is not None:
        zeroth[piexif.ImageIFD.Make] = make.encode()
    if model is not None:
        zeroth[piexif.ImageIFD.Model] = model.encode()
    if modified is not None:
        zeroth[piexif.ImageIFD.DateTime] = modified.encode()
    if taken is not None:
        exif[piexif.ExifIFD.DateTimeOriginal] = taken.encode()
    if offset is not None:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    if modified_offset is not None:
        exif[piexif.ExifIFD.OffsetTime] = modified_offset.encode()
    return piexif.dump({"0th": zeroth, "Exif": exif, "GPS": gps or {}})


def raw_exif_block(*entries: tuple[int, int, int, int], mark: bytes = b"II") -> bytes:
    """A little-endian EXIF block with IFD0 holding `entries` (tag, type, count, 4-byte value).

    Written by hand, so it can be damaged as no encoder would write it.
    """
    body = b"".join(struct.pack("<HHII", *entry) for entry in entries)
    return b"Exif\x00\x00" + mark + struct.pack("<HIH", 42, 8, len(entries)) + body + bytes(4)


# EXIF blocks no reader can walk, as damaged photos hold them (found by flipping bytes of real
# photos' blocks): an ExifOffset pointer without a value, and a block without a TIFF header.
DAMAGED_EXIF = {
    "exif_pointer_without_value": raw_exif_block((0x8769, 4, 0, 0)),
    "no_tiff_header": raw_exif_block((0x0112, 3, 1, 6), mark=b"XX"),
}


def gps_ifd(lat: float, lon: float, *, lat_ref: str | None = None, lon_ref: str | None = None):
    """A GPS IFD for signed decimal degrees; refs default to N/S and E/W from the signs."""
    return {
        piexif.GPSIFD.GPSLatitudeRef: (lat_ref or ("N" if lat >= 0 else "S")).encode(),
        piexif.GPSIFD.GPSLatitude: dms(abs(lat)),
        piexif.GPSIFD.GPSLongitudeRef: (lon_ref or ("E" if lon >= 0 else "W")).encode(),
        piexif.GPSIFD.GPSLongitude: dms(abs(lon)),
    }


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int, bit_depth: int = 1, colour_type: int = 0) -> bytes:
    """A PNG that declares a width x height image (1-bit greyscale by default; colour type 6 is
    RGBA) and holds no pixel data at all.

    Decoding it would fail (there is nothing to decode), so a size refusal proves the size was
    checked from the header first.
    """
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int, pixels: np.ndarray | None = None, **options) -> bytes:
    """A real JPEG of `pixels` (a 16x16 scene by default) whose frame header (SOF0 or SOF2) is
    rewritten to declare width x height: its data covers only the picture it was made from."""
    data = bytearray(encode(scene(16, 16) if pixels is None else pixels, "jpeg", **options))
    sof = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
    assert sof > 0, "Pillow wrote no SOF0 or SOF2 marker"
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def jpeg_cut_short(data: bytes, kept: float) -> bytes:
    """The first `kept` fraction of a JPEG's bytes, closed by an end-of-image marker, as a
    broken upload or a careless repair tool leaves it: libjpeg decodes it with warnings."""
    return data[: int(len(data) * kept)] + b"\xff\xd9"


def flat_picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A large flat field with one red block: every pixel must be decoded, yet it compresses to
    a few hundred KB in any format."""
    image = Image.new("RGB", size, (90, 140, 60))
    width, height = size
    image.paste((200, 40, 40), (width // 4, height // 4, width // 2, height // 2))
    return image.convert(mode)


# Large pictures in the formats decoded at full size, as a hostile client would send them:
# name -> (size, mode, format, save options). See flood_file.
FLOOD = {
    "png_9000x9000_rgba": ((9000, 9000), "RGBA", "png", {"compress_level": 1}),
    "tiff_9000x9000_rgb": ((9000, 9000), "RGB", "tiff", {"compression": "tiff_adobe_deflate"}),
    "webp_5000x5000": ((5000, 5000), "RGB", "webp", {"lossless": True, "method": 0}),
    "webp_9000x9000": ((9000, 9000), "RGB", "webp", {"lossless": True, "method": 0}),
    "heic_6000x6000": ((6000, 6000), "RGB", "heif", {"quality": 10}),
}


@functools.cache
def flood_file(name: str) -> bytes:
    """The bytes of one FLOOD picture (made once per test session: HEIC takes ~10 s)."""
    size, mode, fmt, options = FLOOD[name]
    return encode(flat_picture(size, mode), fmt, **options)

"""What a decode costs in memory, known from the header alone; and freed memory given back.

The figures are peaks measured per declared pixel (docs/performance.md, "Memory"); the estimates
are held to them by tests/preprocessing/test_memory.py:
- PNG and TIFF decode straight into Pillow's image: 1 byte per pixel for 1-bit, grey and palette
  modes, 2 for 16-bit grey, 4 for every other mode (Pillow stores RGB in 4 bytes). libtiff
  adds one strip or tile of packed samples, the whole picture for a single-strip file.
- WebP: libwebp's animation decoder, which Pillow uses for every WebP, holds two RGBA canvases
  besides its output and Pillow's copy: about 16 bytes per pixel, whatever the mode.
- HEIF: libheif's planes, its interleaved output and pillow-heif's copy: 7.4 to 8.5 bytes per
  pixel.
- JPEG decodes at DCT scale, so only the scaled picture counts, except where libjpeg keeps the
  whole image's DCT coefficients (2 bytes each, 64 per 8x8 block) for a progressive file, or a
  file whose first scan lacks some components.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math

from PIL import Image

MB = 1024 * 1024

# Peak bytes per declared pixel of decoders that work outside Pillow's image (measured, rounded up).
DECODER_BYTES_PER_PIXEL = {"webp": 17, "heif": 9}

# Bytes per source pixel converted at once while the working image is made (working.py): the
# band itself and up to three converted copies of 4 bytes a pixel (RGBA, composite, RGB).
BAND_BYTES_PER_PIXEL = 16

# Blocks at least this large are mapped on their own and unmapped when freed (glibc's mallopt).
MMAP_THRESHOLD_BYTES = 1 * MB
_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h

_JPEG_COEFFICIENT_BYTES = 64 * 2


def storage_bytes(mode: str) -> int:
    """Bytes per pixel of Pillow's in-memory image of `mode`."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def decoder_bytes(image: Image.Image, fmt: str, data: bytes, declared: tuple[int, int]) -> int:
    """Peak bytes the decoder of an opened image will take to load it at its current size.

    `declared` is the header's size; `image.size` is smaller for a JPEG after `draft`.
    """
    if fmt in DECODER_BYTES_PER_PIXEL:
        return declared[0] * declared[1] * DECODER_BYTES_PER_PIXEL[fmt]
    own = image.size[0] * image.size[1] * storage_bytes(image.mode)
    if fmt == "tiff":
        return own + _tiff_buffer_bytes(image)
    if fmt == "jpeg" and _jpeg_keeps_coefficients(image, data):
        return own + _jpeg_coefficient_bytes(image.layer, declared)
    return own


def working_bytes(size: tuple[int, int], factor: int, band_rows: int) -> int:
    """Bytes of the working image made from a decoded picture of `size`, bands included."""
    width, height = size
    reduced = math.ceil(width / factor) * math.ceil(height / factor)
    return reduced * 4 + min(band_rows, height) * width * BAND_BYTES_PER_PIXEL


@functools.cache
def return_large_blocks_when_freed() -> bool:
    """Make glibc give every block of MMAP_THRESHOLD_BYTES or more back to the OS when freed.

    glibc serves such blocks with mappings of their own, but by default it raises that threshold
    each time one is freed (up to 32 MB), so the next decode's buffers come from its heaps, one
    per thread, which keep them after they are freed: a worker that decoded a large picture kept
    its peak for good. Setting the threshold turns that raising off (mallopt(3)). Done once per
    process; False where the C library is not glibc.
    """
    if _mallopt is None:
        return False
    return bool(_mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def _find_mallopt():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return None


_mallopt = _find_mallopt()


def _tiff_buffer_bytes(image: Image.Image) -> int:
    """libtiff's buffer: one tile, or one strip of RowsPerStrip rows, of packed samples."""
    tags = image.tag_v2
    width, height = image.size
    bits_per_pixel = sum(_as_tuple(tags.get(258, 8))) or 8
    if 322 in tags and 323 in tags:  # TileWidth, TileLength
        return math.ceil(int(tags[322]) * int(tags[323]) * bits_per_pixel / 8)
    rows = min(int(tags.get(278, height)), height)  # RowsPerStrip; absent means one strip
    return rows * math.ceil(width * bits_per_pixel / 8)


def _jpeg_keeps_coefficients(image: Image.Image, data: bytes) -> bool:
    """libjpeg buffers the whole image's coefficients when the file has several scans."""
    if image.info.get("progressive"):
        return True
    components = _jpeg_first_scan_components(data)
    return components is None or components < len(image.layer)


def _jpeg_coefficient_bytes(layers: list, declared: tuple[int, int]) -> int:
    """One 8x8 block of 2-byte coefficients per component, over whole MCUs of the full size."""
    h_max = max(layer[1] for layer in layers)
    v_max = max(layer[2] for layer in layers)
    mcus_across = math.ceil(declared[0] / (8 * h_max))
    mcus_down = math.ceil(declared[1] / (8 * v_max))
    blocks = sum(mcus_across * h * mcus_down * v for _, h, v, _ in layers)
    return blocks * _JPEG_COEFFICIENT_BYTES


def _jpeg_first_scan_components(data: bytes) -> int | None:
    """How many components the first scan (SOS) carries; None when no SOS can be found."""
    position = 2  # after SOI
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:  # RSTn, SOI, TEM: no length
            position += 2
            continue
        if marker == 0xDA:
            return data[position + 4] if position + 4 < len(data) else None
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return None


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)

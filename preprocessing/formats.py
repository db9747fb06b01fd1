"""Recognise an image format from its first bytes, never from a file name or a declared type."""

from __future__ import annotations

import pillow_heif

from preprocessing.errors import UnsupportedFormat

# Our format name -> (Pillow's plugin name, file extension).
FORMATS = {
    "jpeg": ("JPEG", "jpg"),
    "png": ("PNG", "png"),
    "webp": ("WEBP", "webp"),
    "tiff": ("TIFF", "tif"),
    "heif": ("HEIF", "heic"),
}


def sniff_format(data: bytes) -> str:
    """Return one of FORMATS' keys for these bytes, or raise UnsupportedFormat."""
    if not data:
        raise UnsupportedFormat("the file is empty")
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[4:8] == b"ftyp" and pillow_heif.is_supported(data):
        return "heif"
    raise UnsupportedFormat("not a JPEG, PNG, WebP, TIFF or HEIC/HEIF image")

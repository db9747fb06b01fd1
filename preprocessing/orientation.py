"""Read and apply the EXIF Orientation tag, so every tensor shows the scene upright."""

from __future__ import annotations

import struct

from PIL import Image

ORIENTATION_TAG = 0x0112
SHORT, LONG = 3, 4  # TIFF field types the tag is written with

# The tag's value -> the transposition that shows the stored pixels upright (as ImageOps'
# exif_transpose does it; 1 and unknown values need none).
UPRIGHT_BY = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def stored_orientation(image: Image.Image) -> int:
    """The file's EXIF orientation (1..8); 1 when absent, out of range or unreadable.

    Call it before load(): Pillow's TIFF reader applies the tag and deletes it as it loads, and
    pillow-heif clears it on open (keeping the file's value in info["original_orientation"]).
    A damaged block is upright here and recorded by exif.read_exif.
    """
    try:
        value = int(image.info.get("original_orientation") or _raw_orientation(image))
    except SyntaxError:  # Pillow's "not a TIFF file": a block without a TIFF header
        return 1
    except (ValueError, OverflowError):  # a tag of text, bytes, NaN or infinity: no orientation
        return 1
    return value if 1 <= value <= 8 else 1


def _raw_orientation(image: Image.Image) -> int:
    """The tag from the file's raw EXIF block where it has one, else from Pillow's parse.

    Pillow's getexif() decodes every tag of IFD0 (a tenth of a millisecond and more, as long as
    decoding a small JPEG at DCT scale); the one tag needs a walk over 12-byte entries.
    """
    raw = image.info.get("exif")
    if isinstance(raw, bytes):
        try:
            return ifd0_orientation(raw)
        except (KeyError, struct.error):
            pass  # not a TIFF structure we can walk: Pillow's reader decides
    return image.getexif().get(ORIENTATION_TAG, 1)


def ifd0_orientation(exif: bytes) -> int:
    """The Orientation tag of a raw EXIF block (a TIFF header and IFD0); 1 when absent.

    KeyError or struct.error where the block is not such a structure.
    """
    tiff = exif.removeprefix(b"Exif\x00\x00")
    order = {b"II": "<", b"MM": ">"}[tiff[:2]]
    (first_ifd,) = struct.unpack_from(order + "I", tiff, 4)
    (entries,) = struct.unpack_from(order + "H", tiff, first_ifd)
    for entry in range(first_ifd + 2, first_ifd + 2 + 12 * entries, 12):
        tag, kind = struct.unpack_from(order + "HH", tiff, entry)
        if tag == ORIENTATION_TAG:
            value_format = {SHORT: "H", LONG: "I"}[kind]
            return struct.unpack_from(order + value_format, tiff, entry + 8)[0]
    return 1


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Rotate/mirror the pixels as an EXIF orientation value says (all 8 values)."""
    method = UPRIGHT_BY.get(orientation)
    return image.transpose(method) if method is not None else image

"""Read and apply the EXIF Orientation tag, so every tensor shows the scene upright."""

from __future__ import annotations

from PIL import Image

ORIENTATION_TAG = 0x0112

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
    """The file's EXIF orientation (1..8); 1 when absent or out of range.

    Call it before load(): Pillow's TIFF reader applies the tag and deletes it as it loads, and
    pillow-heif clears it on open (keeping the file's value in info["original_orientation"]).
    """
    try:
        value = int(
            image.info.get("original_orientation") or image.getexif().get(ORIENTATION_TAG, 1)
        )
    except Exception:
        return 1
    return value if 1 <= value <= 8 else 1


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Rotate/mirror the pixels as an EXIF orientation value says (all 8 values)."""
    method = UPRIGHT_BY.get(orientation)
    return image.transpose(method) if method is not None else image

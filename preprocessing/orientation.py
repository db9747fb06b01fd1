"""Read and apply the EXIF Orientation tag, so every tensor shows the scene upright."""

from __future__ import annotations

from PIL import Image, ImageOps

ORIENTATION_TAG = 0x0112


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


def apply_orientation(image: Image.Image) -> Image.Image:
    """Rotate/mirror the pixels as the EXIF tag says (all 8 values); other images pass through."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        return image

"""Embedded ICC profiles to sRGB: a phone's Display P3 or a camera's Adobe RGB read as what it is.

Pixel values mean nothing without their colour space: the same (200, 60, 40) is a different red
in Display P3 than in sRGB. Every tensor is sRGB, so a profile the file embeds (Pillow keeps it
in info["icc_profile"] for JPEG, PNG, WebP, TIFF and HEIF) is converted from with LittleCMS, the
relative colorimetric intent: colours inside sRGB keep their exact values, those outside are
clipped to its edge (docs/preprocessing.md says why). A profile that cannot be used never rejects
the photo: the pixels are then taken as they are, as without a profile, and the note says so.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageCms

from preprocessing.safe_values import bounded_text

INTENT = ImageCms.Intent.RELATIVE_COLORIMETRIC
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

# The modes whose profile is applied; others (grey, palette, alpha, 16-bit) keep their conversion.
CONVERTED_MODES = ("RGB", "CMYK")

# "sRGB IEC61966-2.1", "sRGB built-in": already what the tensors are; not "esRGB" nor "scRGB".
_SRGB_NAME = re.compile(r"\bsRGB\b", re.IGNORECASE)

# Characters of the profile's own description kept in the note.
MAX_NAME_CHARS = 48

# Distinct profiles whose transform is kept: a phone model sends the same profile every time.
CACHED_PROFILES = 16


@dataclass(frozen=True)
class ProfileConversion:
    """What the embedded profile means for the pixels: a transform to sRGB, or none and why.

    `note` is the image record's colour_profile: "none", "srgb", "<profile> -> srgb", or
    "ignored: ..." when the profile is damaged or not one for the image's pixels.
    """

    note: str
    transform: ImageCms.ImageCmsTransform | None = None


NO_PROFILE = ProfileConversion("none")


def profile_conversion(image: Image.Image) -> ProfileConversion:
    """The conversion that the image's embedded profile asks for (read from info, no I/O)."""
    profile = image.info.get("icc_profile")
    if not profile:
        return NO_PROFILE
    if image.mode not in CONVERTED_MODES:
        return ProfileConversion(f"ignored: a profile on a {image.mode} image")
    return _conversion(bytes(profile), image.mode)


@lru_cache(maxsize=CACHED_PROFILES)
def _conversion(profile: bytes, mode: str) -> ProfileConversion:
    """Built once per distinct profile bytes and mode (the cache hashes the bytes)."""
    try:
        embedded = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        name = bounded_text(ImageCms.getProfileDescription(embedded), MAX_NAME_CHARS)
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        return ProfileConversion("ignored: damaged")
    name = name or "unnamed profile"
    if _SRGB_NAME.search(name):
        return ProfileConversion("srgb")
    try:
        transform = ImageCms.buildTransform(embedded, SRGB, mode, "RGB", INTENT)
    except (OSError, ValueError, ImageCms.PyCMSError):
        return ProfileConversion(f"ignored: {name} does not fit a {mode} image")
    return ProfileConversion(f"{name} -> srgb", transform)

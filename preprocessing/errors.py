"""Typed reasons an image is refused; the edges turn them into HTTP codes or dead-letter records."""


class ImageRejected(Exception):
    """Base class: `reason` is a stable machine-readable code, str(self) a readable sentence."""

    reason = "rejected"


class UnsupportedFormat(ImageRejected):
    """The bytes are not JPEG, PNG, WebP, TIFF or HEIC/HEIF (empty, text, another format)."""

    reason = "unsupported_format"


class CorruptImage(ImageRejected):
    """The format is recognised but the data cannot be decoded (truncated, damaged)."""

    reason = "corrupt"


class TooManyPixels(ImageRejected):
    """The declared size exceeds the pixel cap: a decompression bomb or an absurd image."""

    reason = "too_many_pixels"

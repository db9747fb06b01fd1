"""The functional core: image bytes in; an upright 224x224x3 uint8 tensor, variants, metadata and
curation signals out.

No I/O happens here. The streaming job, the batch job and the API's validation all call it.
"""

from preprocessing.curation import CurationSignals
from preprocessing.errors import CorruptImage, ImageRejected, TooManyPixels, UnsupportedFormat
from preprocessing.pipeline import (
    DEFAULT_MAX_DECODE_MB,
    DEFAULT_MAX_PIXELS,
    DEFAULT_VARIANTS,
    ImageMetadata,
    ProcessedImage,
    Variant,
    image_id_of,
    load_upright_rgb,
    process_image,
    tensor_sha256,
    upright_rgb_cost,
)

__all__ = [
    "DEFAULT_MAX_DECODE_MB",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_VARIANTS",
    "CorruptImage",
    "CurationSignals",
    "ImageMetadata",
    "ImageRejected",
    "ProcessedImage",
    "TooManyPixels",
    "UnsupportedFormat",
    "Variant",
    "image_id_of",
    "load_upright_rgb",
    "process_image",
    "tensor_sha256",
    "upright_rgb_cost",
]

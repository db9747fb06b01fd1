"""The core's one entry: bytes in; metadata, a 224x224x3 base tensor, its signals, variants out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from preprocessing.augment import AugmentParams, apply_params, draw_params
from preprocessing.curation import CurationSignals, curation_signals
from preprocessing.decode import DecodedImage, decode_cost, decode_image
from preprocessing.exif import read_exif
from preprocessing.opencv import warp_source
from preprocessing.orientation import apply_orientation
from preprocessing.resize import SIZE, base_tensor

DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_MAX_DECODE_MB = 512
DEFAULT_VARIANTS = 4


@dataclass(frozen=True)
class ImageMetadata:
    """Facts about one uploaded file; image_id is the sha256 of its bytes."""

    image_id: str
    format: str
    width: int
    height: int
    orientation: int
    size_bytes: int
    lat: float | None
    lon: float | None
    altitude: float | None
    captured_at: str | None
    captured_at_local: str | None
    camera_make: str | None
    camera_model: str | None
    colour_profile: str
    exif_error: str | None = None  # exif.DAMAGED when the EXIF block cannot be read

    @property
    def camera(self) -> str | None:
        """Make and model as one name, without repeating the make ("Canon Canon EOS 40D")."""
        make, model = self.camera_make, self.camera_model
        first_word = make.split()[0].lower() if make and make.strip() else None
        if first_word and model and model.lower().startswith(first_word):
            return model
        return " ".join(part for part in (make, model) if part) or None


@dataclass(frozen=True)
class Variant:
    """One augmented tensor and the parameters that made it."""

    k: int
    params: AugmentParams
    tensor: np.ndarray


@dataclass(frozen=True)
class ProcessedImage:
    metadata: ImageMetadata
    base: np.ndarray
    curation: CurationSignals
    variants: tuple[Variant, ...]


def image_id_of(data: bytes) -> str:
    """The content address of an upload: the hex sha256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def tensor_sha256(tensor: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(tensor).tobytes()).hexdigest()


def upright_rgb(
    data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, max_decode_mb: int = DEFAULT_MAX_DECODE_MB
) -> tuple[Image.Image, DecodedImage]:
    """Decode to the RGB working image (DCT scale for JPEG), then orient: every tensor's input."""
    decoded = decode_image(
        data, max_pixels=max_pixels, max_decode_mb=max_decode_mb, draft_size=SIZE
    )
    return apply_orientation(decoded.image, decoded.pending_orientation), decoded


def upright_rgb_cost(
    data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, max_decode_mb: int = DEFAULT_MAX_DECODE_MB
) -> int:
    """The estimated peak bytes of upright_rgb (and so of process_image), from the header alone.

    Raises the ImageRejected that upright_rgb would raise before decoding.
    """
    return decode_cost(
        data, max_pixels=max_pixels, max_decode_mb=max_decode_mb, draft_size=SIZE
    )


def metadata_of(data: bytes, decoded: DecodedImage) -> ImageMetadata:
    """The file's facts: its id, what the decoder saw, and what its EXIF says."""
    exif = read_exif(data)
    return ImageMetadata(
        image_id=image_id_of(data),
        format=decoded.format,
        width=decoded.width,
        height=decoded.height,
        orientation=decoded.orientation,
        size_bytes=len(data),
        lat=exif.lat,
        lon=exif.lon,
        altitude=exif.altitude,
        captured_at=exif.captured_at,
        captured_at_local=exif.captured_at_local,
        camera_make=exif.camera_make,
        camera_model=exif.camera_model,
        colour_profile=decoded.colour_profile,
        exif_error=exif.error,
    )


def load_upright_rgb(
    data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, max_decode_mb: int = DEFAULT_MAX_DECODE_MB
) -> tuple[Image.Image, ImageMetadata]:
    """The upright RGB image and the metadata: all the API checks on its request path.

    Raises an ImageRejected subclass.
    """
    upright, decoded = upright_rgb(data, max_pixels, max_decode_mb)
    return upright, metadata_of(data, decoded)


def augment(
    upright: Image.Image | np.ndarray, image_id: str, n_variants: int
) -> tuple[Variant, ...]:
    variants = []
    for k in range(n_variants):
        params = draw_params(image_id, k)
        variants.append(Variant(k=k, params=params, tensor=apply_params(upright, params)))
    return tuple(variants)


def process_image(
    data: bytes,
    *,
    n_variants: int = DEFAULT_VARIANTS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_decode_mb: int = DEFAULT_MAX_DECODE_MB,
) -> ProcessedImage:
    """Everything the datasets need from one upload; raises an ImageRejected subclass."""
    upright, metadata = load_upright_rgb(data, max_pixels, max_decode_mb)
    source = warp_source(upright)  # one copy out of Pillow, shared by the base and the variants
    base = base_tensor(source)
    return ProcessedImage(
        metadata=metadata,
        base=base,
        curation=curation_signals(base),
        variants=augment(source, metadata.image_id, n_variants),
    )

"""Real photos (the shared corpus and img/) and copies of them as a curator meets them.

A copy is made from the full-size upright picture and saved as a JPEG, as an app re-sharing or
editing the photo would; it then goes through the core like any upload.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
SAMPLES = PROJECT_ROOT / "img"
ONE_SCENE = "orientation/"  # landscape_1..8: one picture stored in the eight EXIF orientations

Change = Callable[[Image.Image], Image.Image]


def photos() -> dict[str, bytes]:
    """Every photo of the corpus (where present) and of img/, by its path under those folders."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for root in (CORPUS, SAMPLES)
        for path in sorted(root.glob("*/*.jpg"))
    }


def scene_of(name: str) -> str:
    """Photos of one scene share this name: the orientation set is one picture, all else differ."""
    return ONE_SCENE if name.startswith(ONE_SCENE) else name


def upright_full_size(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")


def jpeg(image: Image.Image, quality: int = 95) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def unchanged(image: Image.Image) -> Image.Image:
    return image


def scaled(factor: float) -> Change:
    def resize(image: Image.Image) -> Image.Image:
        size = (round(image.width * factor), round(image.height * factor))
        return image.resize(size, Image.Resampling.LANCZOS)

    return resize


def cropped(share: float) -> Change:
    """Cuts `share` of the width and of the height off the right and bottom edges."""

    def crop(image: Image.Image) -> Image.Image:
        kept = 1 - share
        return image.crop((0, 0, round(image.width * kept), round(image.height * kept)))

    return crop


def blurred(radius: float) -> Change:
    """A Gaussian blur of `radius` pixels of the full-size photo."""
    return lambda image: image.filter(ImageFilter.GaussianBlur(radius))


def blurred_at_base(radius: float) -> Change:
    """A Gaussian blur of `radius` pixels at the 224 scale, whatever the photo's size."""
    return lambda image: image.filter(ImageFilter.GaussianBlur(radius * min(image.size) / 224))


def exposed(factor: float) -> Change:
    """Every channel times `factor`, clipped at 255 (a darker or overexposed shot)."""
    return lambda image: ImageEnhance.Brightness(image).enhance(factor)


# name -> (the change, the copy's JPEG quality)
COPIES: dict[str, tuple[Change, int]] = {
    "JPEG q90": (unchanged, 90),
    "JPEG q70": (unchanged, 70),
    "JPEG q50": (unchanged, 50),
    "resize 90%": (scaled(0.9), 95),
    "resize 75%": (scaled(0.75), 95),
    "resize 50%": (scaled(0.5), 95),
    "crop 2%": (cropped(0.02), 95),
    "crop 5%": (cropped(0.05), 95),
    "blur r2": (blurred(2), 95),
    "blur r4": (blurred(4), 95),
    "blur 1px at 224": (blurred_at_base(1), 95),
    "blur 2px at 224": (blurred_at_base(2), 95),
    "darken x0.5": (exposed(0.5), 95),
    "brighten x1.5": (exposed(1.5), 95),
    "brighten x2": (exposed(2.0), 95),
}


def copy_of(data: bytes, copy_name: str) -> bytes:
    """The bytes of one named copy of a photo."""
    change, quality = COPIES[copy_name]
    return jpeg(change(upright_full_size(data)), quality)

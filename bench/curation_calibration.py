"""Calibrates the curation signals on real photos: the numbers in docs/curation.md.

For every photo of the shared corpus and of img/, derived copies (re-encoded, resized, cropped,
blurred, darkened, brightened) go through the core like any upload. Prints the pHash distance
between every pair of distinct scenes, each copy's distance to its original, and how often each
signal moves the documented way.

Run: .venv/bin/python -m bench.curation_calibration
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from bench.corpus import CORPUS
from dataset.duplicates import MAX_HAMMING_DISTANCE, assign_groups, hamming_distance
from preprocessing import CurationSignals, process_image
from settings import PROJECT_ROOT

ONE_SCENE = "orientation/"  # landscape_1..8: one picture stored in the eight EXIF orientations


def photos() -> dict[str, bytes]:
    """Every decodable photo of the corpus and of img/, by a short name."""
    corpus = sorted(CORPUS.glob("*/*.jpg"))
    samples = sorted((PROJECT_ROOT / "img").glob("*/*.jpg"))
    return {
        str(path.relative_to(root)): path.read_bytes()
        for root, paths in ((CORPUS, corpus), (PROJECT_ROOT / "img", samples))
        for path in paths
    }


def jpeg(image: Image.Image, quality: int = 95) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def scaled(factor: float) -> Callable[[Image.Image], Image.Image]:
    def resize(image: Image.Image) -> Image.Image:
        size = (round(image.width * factor), round(image.height * factor))
        return image.resize(size, Image.Resampling.LANCZOS)

    return resize


def cropped(share: float) -> Callable[[Image.Image], Image.Image]:
    """Cuts `share` of the width and height off the right and bottom edges."""

    def crop(image: Image.Image) -> Image.Image:
        kept = 1 - share
        return image.crop((0, 0, round(image.width * kept), round(image.height * kept)))

    return crop


def blurred(radius: float) -> Callable[[Image.Image], Image.Image]:
    return lambda image: image.filter(ImageFilter.GaussianBlur(radius))


def blurred_at_base(pixels: float) -> Callable[[Image.Image], Image.Image]:
    """A Gaussian blur of `pixels` at the 224 scale, whatever the photo's size."""
    return lambda image: image.filter(ImageFilter.GaussianBlur(pixels * min(image.size) / 224))


def exposed(factor: float) -> Callable[[Image.Image], Image.Image]:
    return lambda image: ImageEnhance.Brightness(image).enhance(factor)


def identity(image: Image.Image) -> Image.Image:
    return image


# name -> (pixel change, JPEG quality of the copy)
COPIES: dict[str, tuple[Callable[[Image.Image], Image.Image], int]] = {
    "JPEG q90": (identity, 90),
    "JPEG q70": (identity, 70),
    "JPEG q50": (identity, 50),
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


def upright_full_size(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")


def signals(data: bytes) -> CurationSignals:
    return process_image(data, n_variants=0).curation


def scene_of(name: str) -> str:
    return ONE_SCENE if name.startswith(ONE_SCENE) else name


def report_scenes(originals: dict[str, CurationSignals]) -> None:
    pairs = sorted(
        (hamming_distance(a.phash, b.phash), name_a, name_b)
        for (name_a, a), (name_b, b) in itertools.combinations(originals.items(), 2)
        if scene_of(name_a) != scene_of(name_b)
    )
    same = [
        hamming_distance(a.phash, b.phash)
        for (name_a, a), (name_b, b) in itertools.combinations(originals.items(), 2)
        if scene_of(name_a) == scene_of(name_b)
    ]
    print(f"{len(pairs)} pairs of distinct scenes; the closest:")
    for distance, name_a, name_b in pairs[:8]:
        print(f"  {distance:2d}  {name_a}  {name_b}")
    print(f"one scene in 8 orientations: max distance {max(same)} over {len(same)} pairs")
    groups = assign_groups([], ((name, s.phash) for name, s in originals.items()))
    founders = {groups[name] for name in originals}
    print(
        f"{len(originals)} photos of {len({scene_of(n) for n in originals})} scenes: "
        f"{len(founders)} groups"
    )


def report_copies(originals: dict[str, CurationSignals], files: dict[str, bytes]) -> None:
    copies = {name: {} for name in COPIES}
    for name, data in files.items():
        upright = upright_full_size(data)
        for copy_name, (change, quality) in COPIES.items():
            copies[copy_name][name] = signals(jpeg(change(upright), quality))
    known = assign_groups([], ((name, s.phash) for name, s in originals.items()))
    known_pairs = [(originals[name].phash, group) for name, group in known.items()]
    print(
        f"\n{'copy':18} max dist  mean  in group  sharper  brighter  more clipped"
        f"   (of {len(files)})"
    )
    for copy_name, by_photo in copies.items():
        distances = [hamming_distance(originals[n].phash, s.phash) for n, s in by_photo.items()]
        sharper = sum(s.sharpness > originals[n].sharpness for n, s in by_photo.items())
        brighter = sum(s.brightness > originals[n].brightness for n, s in by_photo.items())
        clipped = sum(
            s.clipped_fraction > originals[n].clipped_fraction for n, s in by_photo.items()
        )
        mean = sum(distances) / len(distances)
        copy_groups = assign_groups(
            known_pairs, ((f"copy of {n}", s.phash) for n, s in by_photo.items())
        )
        grouped = sum(copy_groups[f"copy of {n}"] == known[n] for n in by_photo)
        print(
            f"{copy_name:18} {max(distances):8d}  {mean:5.2f}  {grouped:8d}  {sharper:7d}"
            f"  {brighter:8d}  {clipped:12d}"
        )
        worst = max(by_photo, key=lambda n: hamming_distance(originals[n].phash, by_photo[n].phash))
        print(f"{'':18} worst: {worst}")


def main() -> None:
    files = photos()
    originals = {name: signals(data) for name, data in files.items()}
    print(f"MAX_HAMMING_DISTANCE = {MAX_HAMMING_DISTANCE}")
    report_scenes(originals)
    report_copies(originals, files)


if __name__ == "__main__":
    main()

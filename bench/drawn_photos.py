"""A folder of synthetic field photos for benchmarks, drawn by img/make_samples.py's generator with
a seed of their own (img/'s pictures use 2026), so they are other pictures than img/'s.

Drawing is slow (~0.6 s of pure Python per picture), so a folder of many photos is made of
`distinct` drawings, the rest byte-distinct copies of them: a few bytes appended after the JPEG's
end (decoders ignore them, as in bench.batch_scaling), so every copy has an image id and
augmentations of its own. A copy has its drawing's pixels, so the dataset puts it in the same
near-duplicate group, and so the same split: no scene is on both sides of a split.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from settings import PROJECT_ROOT

GENERATOR = PROJECT_ROOT / "img" / "make_samples.py"


def generator():
    """img/make_samples.py as a module (img/ is not a package)."""
    if "make_samples" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_samples", GENERATOR)
        sys.modules["make_samples"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["make_samples"])
    return sys.modules["make_samples"]


def draw_one(folder: Path, index: int, seed: int) -> Path:
    """Drawing `index`: the crops in turn, so every crop gets a quarter of the drawings."""
    samples = generator()
    crop_index, number = index % len(samples.CROPS), index // len(samples.CROPS)
    return samples.write_photo(crop_index, number, folder, seed=seed)


def draw(folder: Path, count: int, seed: int, workers: int = os.cpu_count() or 1) -> list[Path]:
    """`count` drawings in folder/<crop>/, drawn by `workers` processes; their paths, in order."""
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(draw_one, [folder] * count, range(count), [seed] * count,
                             chunksize=8))


def photo_folder(folder: Path, drawings: list[Path], photos: int) -> Path:
    """folder/<crop>/*.jpg: `photos` files, the drawings first, then copies of them in turn."""
    for index in range(photos):
        source, copy = drawings[index % len(drawings)], index // len(drawings)
        target = folder / source.parent.name / (source.name if copy == 0
                                                else f"{source.stem}_copy{copy}.jpg")
        target.parent.mkdir(parents=True, exist_ok=True)
        if copy == 0:
            shutil.copyfile(source, target)
        else:
            target.write_bytes(source.read_bytes() + f"copy{copy}".encode())
    return folder

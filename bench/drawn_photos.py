"""A folder of synthetic field photos for benchmarks, drawn by img/make_samples.py's generator with
a seed of their own (img/'s pictures use 2026), so they are other pictures than img/'s.

Drawing is slow (~0.6 s of pure Python per picture), so drawings can be kept in a folder and
reused, and a folder of many photos is made of fewer drawings, the rest byte-distinct copies of
them: a few bytes appended after the JPEG's end (decoders ignore them, as in bench.batch_scaling),
so every copy has an image id and augmentations of its own. A copy has its drawing's pixels, so
the dataset puts it in the same near-duplicate group, and so the same split: no scene is on both
sides of a split.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from kit.drawings import generator


def drawing_path(folder: Path, index: int) -> Path:
    """Where drawing `index` goes: the crops in turn, so every crop gets a quarter of them."""
    crops = generator().CROPS
    crop = crops[index % len(crops)].name
    return folder / crop / f"{crop}_{index // len(crops) + 1:02d}.jpg"


def draw_one(folder: Path, index: int, seed: int) -> Path:
    """Drawing `index` in folder, drawn unless it is there already (a seed draws the same bytes
    every time); moved into place whole, so an interrupted run leaves no half-written photo."""
    target, crops = drawing_path(folder, index), generator().CROPS
    if not target.exists():
        with tempfile.TemporaryDirectory(dir=folder) as partial:
            drawn = generator().write_photo(index % len(crops), index // len(crops), Path(partial),
                                            seed=seed)
            if drawn.relative_to(partial) != target.relative_to(folder):
                raise RuntimeError(f"the generator names its photos anew: {drawn.name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(drawn, target)
    return target


def draw(folder: Path, count: int, seed: int, workers: int = os.cpu_count() or 1) -> list[Path]:
    """`count` drawings in folder/<crop>/ (those there already kept), drawn by `workers`
    processes; their paths, in order."""
    folder.mkdir(parents=True, exist_ok=True)
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

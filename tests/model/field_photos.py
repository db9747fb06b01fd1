"""Field photos to train on: img/'s 28 synthetic pictures and more drawn by its generator with
another seed, some of them darkened, and one file that is not a photo at all."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from kit.drawings import generator
from settings import PROJECT_ROOT

IMG = PROJECT_ROOT / "img"
SEED = 17  # not img/'s 2026: other pictures
DRAWN_PER_CROP = 3
DARKENED = 0  # the first drawn photo of each crop is stored at a third of its brightness


def field_folder(folder: Path) -> Path:
    """folder/<crop>/*.jpg: img/'s photos, DRAWN_PER_CROP more per crop, and notes.jpg (text)."""
    shutil.copytree(IMG, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    samples = generator()
    for crop_index, crop in enumerate(samples.CROPS):
        for number in range(DRAWN_PER_CROP):
            path = samples.write_photo(crop_index, number, folder / "drawn", seed=SEED)
            target = folder / crop.name / f"drawn_{path.name}"
            if number == DARKENED:
                with Image.open(path) as picture:
                    picture.point(lambda value: value // 3).save(target, quality=90)
                path.unlink()
            else:
                path.rename(target)
    shutil.rmtree(folder / "drawn")
    (folder / "maize" / "notes.jpg").write_text("not a photo: the batch job rejects it")
    return folder

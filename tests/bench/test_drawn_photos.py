"""The benchmarks' drawn photos: drawings are kept and reused, and photos beyond them are copies
with ids of their own but the same pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bench.drawn_photos import draw, photo_folder
from preprocessing import image_id_of

SEED = 41


@pytest.fixture(scope="module")
def drawings(tmp_path_factory):
    return draw(tmp_path_factory.mktemp("drawn"), 2, SEED, workers=1)


def test_each_drawing_is_a_photo_of_its_crop_from_the_generator(drawings):
    assert [path.parent.name for path in drawings] == ["maize", "wheat"]
    with Image.open(drawings[0]) as picture:
        assert (picture.format, picture.size) == ("JPEG", (640, 480))


def test_drawings_already_in_the_folder_are_kept_not_drawn_again(drawings):
    written = [path.stat().st_mtime_ns for path in drawings]
    again = draw(drawings[0].parent.parent, 2, SEED, workers=1)
    assert again == drawings
    assert [path.stat().st_mtime_ns for path in again] == written
    assert sorted(path.name for path in drawings[0].parent.parent.iterdir()) == ["maize", "wheat"]


def test_photos_beyond_the_drawings_are_copies_with_ids_of_their_own(drawings, tmp_path):
    folder = photo_folder(tmp_path, drawings, 5)
    photos = sorted(folder.rglob("*.jpg"))
    assert len(photos) == 5
    assert len({image_id_of(path.read_bytes()) for path in photos}) == 5
    copies = sorted((folder / "maize").glob("*_copy*.jpg"))
    assert [path.name for path in copies] == ["maize_01_copy1.jpg", "maize_01_copy2.jpg"]
    with Image.open(drawings[0]) as drawn, Image.open(copies[1]) as copy:
        assert np.array_equal(np.asarray(drawn), np.asarray(copy))

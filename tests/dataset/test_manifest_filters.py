"""manifest() filters on the curation signals, the split and near-duplicate groups."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFilter

from adapters.object_store import LocalStore
from dataset import DatasetReader
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from tests.dataset.test_manifest import photo, reencoded, row_of


def edited(data: bytes, edit) -> bytes:
    buffer = io.BytesIO()
    edit(Image.open(io.BytesIO(data)).convert("RGB")).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """An original, its blurred, darkened and re-encoded copies, and two other scenes."""
    original = photo(21)
    versions = {
        "original": original,
        "blurred": edited(original, lambda im: im.filter(ImageFilter.GaussianBlur(4))),
        "dark": edited(original, lambda im: im.point(lambda v: v // 3)),
        "copy": reencoded(original),
        "other": photo(22),
        "third": photo(23),
    }
    store = LocalStore(tmp_path_factory.mktemp("dataset"))
    rows = [{**row_of(data), "source": name} for name, data in versions.items()]
    ManifestWriter(Manifest.of(store), (0.8, 0.1, 0.1)).commit(rows)
    return DatasetReader(store)


def names(rows) -> set[str]:
    return set(rows["source"])


def test_sharpness_drops_a_blurred_copy(reader):
    original = reader.manifest().set_index("source").loc["original"]
    assert "blurred" not in names(reader.manifest(min_sharpness=original.sharpness / 2))
    assert "original" in names(reader.manifest(min_sharpness=original.sharpness / 2))


def test_brightness_drops_a_darkened_copy(reader):
    kept = names(reader.manifest(brightness=(0.25, 0.9)))
    assert "dark" not in kept and "original" in kept


def test_one_per_group_keeps_one_photo_of_each_scene(reader):
    groups = reader.manifest().set_index("source")["duplicate_group"]
    assert groups["copy"] == groups["original"]
    assert groups["other"] != groups["original"]
    assert len(reader.manifest(one_per_group=True)) == groups.nunique()


def test_a_split_filter_keeps_whole_groups(reader):
    rows = reader.manifest()
    for split in ("train", "val", "test"):
        chosen = reader.manifest(split=split)
        assert set(chosen["split"]) <= {split}
        whole = rows[rows["duplicate_group"].isin(chosen["duplicate_group"])]
        assert len(whole) == len(chosen)

"""The manifest's catalogue: what decides whether a photo is in the dataset already."""

from __future__ import annotations

from dataset.catalog import Catalog
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.records import manifest_row
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload

FRACTIONS = (0.8, 0.1, 0.1)


def row_from(seed: int, source: str) -> dict:
    data = encode(photo_like(160, 120, seed=seed), "jpeg")
    outcome = process_upload(Upload(data, source, "maize"), n_variants=1, max_pixels=10**8)
    return manifest_row(outcome, f"raw/{outcome.image_id}.jpg", "shards/test/t.tar")


def test_a_catalogue_names_the_source_of_each_recorded_image_and_learns_later_commits(store):
    writer = ManifestWriter.of(store, FRACTIONS)
    first, second = row_from(1, "kafka:t/0/5"), row_from(2, "kafka:t/1/0")
    catalog = Catalog(Manifest.of(store))
    catalog.refresh()  # before the table's first commit

    assert catalog.source_of(first["image_id"]) is None
    writer.commit([first])
    catalog.refresh()
    writer.commit([second])
    assert first["image_id"] in catalog and second["image_id"] not in catalog
    catalog.refresh()
    assert catalog.source_of(first["image_id"]) == "kafka:t/0/5"
    assert catalog.source_of(second["image_id"]) == "kafka:t/1/0"

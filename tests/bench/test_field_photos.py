"""The stress test's uploads are photos as phones send them: each new, real JPEGs with EXIF."""

from __future__ import annotations

import hashlib
import random

import pytest

from bench.field_photos import SAMPLES, SIZES, new_photo
from preprocessing import load_upright_rgb


def exif_facts(data: bytes, crop: str) -> tuple:
    metadata = load_upright_rgb(data)[1]
    return crop, metadata.lat, metadata.lon, metadata.orientation, metadata.camera_model


SAMPLE_FACTS = [exif_facts(path.read_bytes(), path.parent.name) for path in SAMPLES]


def test_every_upload_is_a_new_photo():
    rng = random.Random(7)
    photos = [new_photo(rng) for _ in range(50)]
    assert len({hashlib.sha256(photo.data).hexdigest() for photo in photos}) == 50


@pytest.mark.parametrize("seed", range(12))
def test_a_photo_is_a_jpeg_of_its_size_with_its_samples_exif(seed):
    photo = new_photo(random.Random(seed))
    _, metadata = load_upright_rgb(photo.data)
    assert metadata.format == "jpeg"
    assert max(metadata.width, metadata.height) == SIZES[photo.size].width
    assert exif_facts(photo.data, photo.crop) in SAMPLE_FACTS


def test_most_samples_carry_gps_as_phones_do():
    with_gps = [facts for facts in SAMPLE_FACTS if facts[1] is not None]
    assert len(with_gps) / len(SAMPLE_FACTS) == pytest.approx(0.75)

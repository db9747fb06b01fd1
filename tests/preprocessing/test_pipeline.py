"""process_image: one upload's bytes in; content id, metadata, base tensor and variants out."""

import hashlib

import numpy as np
import pytest

from kit.photos import encode, exif_bytes, gps_ifd, scene
from preprocessing import (
    DEFAULT_VARIANTS,
    ImageMetadata,
    ImageRejected,
    UnsupportedFormat,
    image_id_of,
    load_upright_rgb,
    process_image,
    tensor_sha256,
)
from preprocessing.augment import draw_params

PHOTO = encode(
    scene(320, 240),
    "jpeg",
    exif=exif_bytes(
        make="Acme",
        model="Acme X100",
        taken="2024:03:05 14:07:09",
        offset="+01:00",
        gps=gps_ifd(48.8584, 2.2945),
    ),
)


@pytest.fixture(scope="module")
def processed():
    return process_image(PHOTO)


def test_the_image_id_is_the_sha256_of_the_bytes(processed):
    assert processed.metadata.image_id == hashlib.sha256(PHOTO).hexdigest()
    assert image_id_of(PHOTO) == processed.metadata.image_id


def test_the_default_is_four_variants(processed):
    assert DEFAULT_VARIANTS == 4
    assert len(processed.variants) == 4


def test_n_variants_0_gives_no_variants():
    assert process_image(PHOTO, n_variants=0).variants == ()


def test_n_variants_is_respected():
    assert [v.k for v in process_image(PHOTO, n_variants=7).variants] == list(range(7))


def test_each_variant_uses_the_parameters_drawn_for_its_image_id_and_k(processed):
    for variant in processed.variants:
        assert variant.params == draw_params(processed.metadata.image_id, variant.k)


def test_every_tensor_is_224x224x3_uint8(processed):
    for tensor in (processed.base, *(v.tensor for v in processed.variants)):
        assert tensor.shape == (224, 224, 3)
        assert tensor.dtype == np.uint8


def test_the_same_bytes_give_identical_tensors(processed):
    again = process_image(PHOTO)

    assert again.base.tobytes() == processed.base.tobytes()
    for first, second in zip(processed.variants, again.variants, strict=True):
        assert first.tensor.tobytes() == second.tensor.tobytes()


def test_the_variants_differ_from_each_other(processed):
    assert len({tensor_sha256(v.tensor) for v in processed.variants}) == 4


def test_different_bytes_of_the_same_picture_get_different_ids():
    other = encode(scene(320, 240), "png")

    assert process_image(other, n_variants=0).metadata.image_id != image_id_of(PHOTO)


def test_tensor_sha256_hashes_the_raw_array_bytes(processed):
    assert tensor_sha256(processed.base) == hashlib.sha256(processed.base.tobytes()).hexdigest()


def test_metadata_reports_the_files_facts(processed):
    meta = processed.metadata

    assert (meta.format, meta.width, meta.height, meta.orientation) == ("jpeg", 320, 240, 1)
    assert meta.size_bytes == len(PHOTO)
    assert meta.lat == pytest.approx(48.8584, abs=1e-6)
    assert meta.lon == pytest.approx(2.2945, abs=1e-6)
    assert meta.captured_at == "2024-03-05T13:07:09Z"
    assert (meta.camera_make, meta.camera_model) == ("Acme", "Acme X100")


def test_load_upright_rgb_gives_the_rgb_picture_and_the_same_metadata(processed):
    image, metadata = load_upright_rgb(PHOTO)

    assert image.mode == "RGB"
    assert image.size == (320, 240)
    assert metadata == processed.metadata


def test_refusals_are_typed_image_rejections():
    with pytest.raises(UnsupportedFormat) as refused:
        process_image(b"GIF89a not really")

    assert isinstance(refused.value, ImageRejected)


def _camera(make, model) -> str | None:
    return ImageMetadata(
        image_id="0" * 64,
        format="jpeg",
        width=1,
        height=1,
        orientation=1,
        size_bytes=1,
        lat=None,
        lon=None,
        altitude=None,
        captured_at=None,
        captured_at_local=None,
        camera_make=make,
        camera_model=model,
        colour_profile="none",
    ).camera


CAMERAS = {
    "model_repeats_make": ("Canon", "Canon EOS 40D", "Canon EOS 40D"),
    "model_repeats_first_word_of_make": ("NIKON CORPORATION", "NIKON D70", "NIKON D70"),
    "model_repeats_make_in_another_case": ("Samsung Techwin", "SAMSUNG ES15", "SAMSUNG ES15"),
    "model_without_make": ("FUJIFILM", "FinePix E500", "FUJIFILM FinePix E500"),
    "make_only": ("Jolla", None, "Jolla"),
    "model_only": (None, "DiMAGE Z3", "DiMAGE Z3"),
    "neither": (None, None, None),
}


@pytest.mark.parametrize(("make", "model", "camera"), CAMERAS.values(), ids=CAMERAS.keys())
def test_camera_joins_make_and_model_without_repeating_the_make(make, model, camera):
    assert _camera(make, model) == camera

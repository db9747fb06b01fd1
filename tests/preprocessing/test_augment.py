"""Augmentation: parameters are a pure function of (image id, k), and so is applying them."""

import dataclasses

import numpy as np
import pytest
from PIL import Image

from preprocessing.augment import (
    JITTER_RANGE,
    MAX_ANGLE,
    RATIO_RANGE,
    SCALE_RANGE,
    AugmentParams,
    apply_params,
    draw_params,
)
from tests.preprocessing.synthetic import scene

IMAGE_ID = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
MANY = [draw_params(IMAGE_ID, k) for k in range(500)]

# A variant with no geometry or colour change but the crop: handy to vary one thing at a time.
PLAIN = AugmentParams(
    scale=0.8,
    ratio=1.0,
    centre_x=0.5,
    centre_y=0.5,
    flip=False,
    angle=0.0,
    brightness=1.0,
    contrast=1.0,
    saturation=1.0,
)


def test_the_same_image_id_and_k_give_the_same_parameters():
    assert draw_params(IMAGE_ID, 3) == draw_params(IMAGE_ID, 3)


def test_each_k_gives_different_parameters():
    assert len({draw_params(IMAGE_ID, k) for k in range(8)}) == 8


def test_each_image_id_gives_different_parameters():
    assert draw_params(IMAGE_ID, 0) != draw_params(IMAGE_ID[::-1], 0)


def test_scale_stays_in_its_documented_range():
    assert all(SCALE_RANGE[0] <= p.scale <= SCALE_RANGE[1] for p in MANY)


def test_ratio_stays_in_its_documented_range():
    assert all(RATIO_RANGE[0] <= p.ratio <= RATIO_RANGE[1] for p in MANY)


def test_angle_stays_within_the_documented_maximum_either_way():
    angles = [p.angle for p in MANY]

    assert all(abs(angle) <= MAX_ANGLE for angle in angles)
    assert min(angles) < 0 < max(angles)


def test_colour_jitter_stays_in_its_documented_range():
    factors = [f for p in MANY for f in (p.brightness, p.contrast, p.saturation)]

    assert all(JITTER_RANGE[0] <= f <= JITTER_RANGE[1] for f in factors)


def test_crop_position_stays_within_the_image():
    assert all(0 <= p.centre_x <= 1 and 0 <= p.centre_y <= 1 for p in MANY)


def test_about_half_the_variants_are_flipped():
    assert 200 < sum(p.flip for p in MANY) < 300


@pytest.mark.parametrize("size", [(640, 480), (480, 640), (10, 7), (2000, 300)], ids=str)
def test_applying_parameters_gives_a_224x224x3_uint8_tensor(size):
    tensor = apply_params(Image.fromarray(scene(*size)), MANY[0])

    assert tensor.shape == (224, 224, 3)
    assert tensor.dtype == np.uint8


def test_the_same_parameters_give_the_same_bytes():
    image = Image.fromarray(scene(640, 480))

    first, second = apply_params(image, MANY[1]), apply_params(image, MANY[1])

    assert first.tobytes() == second.tobytes()


def test_different_parameters_give_different_tensors():
    image = Image.fromarray(scene(640, 480))

    assert apply_params(image, MANY[0]).tobytes() != apply_params(image, MANY[1]).tobytes()


@pytest.mark.parametrize("size", [(300, 200), (200, 300), (50, 50)], ids=str)
def test_rotation_leaves_no_empty_corners(size):
    white = Image.new("RGB", size, "white")

    for params in MANY[:30]:
        geometry_only = dataclasses.replace(params, brightness=1.0, contrast=1.0, saturation=1.0)
        assert apply_params(white, geometry_only).min() == 255, params


@pytest.mark.parametrize("angle", [-MAX_ANGLE, MAX_ANGLE])
def test_the_largest_rotation_of_the_largest_crop_leaves_no_empty_corners(angle):
    params = dataclasses.replace(PLAIN, scale=1.0, ratio=RATIO_RANGE[1], angle=angle)

    tensor = apply_params(Image.new("RGB", (300, 200), "white"), params)

    assert tensor.min() == 255


def test_with_jitter_a_white_image_stays_bright_everywhere():
    white = Image.new("RGB", (300, 200), "white")

    for params in MANY[:30]:
        assert apply_params(white, params).min() >= JITTER_RANGE[0] * 255 - 2


def test_flip_mirrors_the_variant():
    image = Image.fromarray(scene(640, 480))

    plain = apply_params(image, PLAIN)
    flipped = apply_params(image, dataclasses.replace(PLAIN, flip=True))

    np.testing.assert_array_equal(flipped, plain[:, ::-1])
    assert not np.array_equal(flipped, plain)


def test_brightness_scales_the_pixel_values():
    grey = Image.new("RGB", (300, 300), (100, 100, 100))

    brighter = apply_params(grey, dataclasses.replace(PLAIN, brightness=1.2))

    assert np.all(brighter == 120)


def test_parameters_can_be_logged_as_a_plain_dict():
    logged = MANY[0].as_dict()

    assert AugmentParams(**logged) == MANY[0]
    assert set(logged) == {f.name for f in dataclasses.fields(AugmentParams)}

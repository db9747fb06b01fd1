"""Augmentation: parameters are a pure function of (image id, k), and so is applying them."""

import dataclasses
import itertools

import numpy as np
import pytest
from PIL import Image

from bench.pillow_core import pillow_variant
from kit.photos import scene
from kit.real_photos import SAMPLES
from preprocessing.augment import (
    JITTER_RANGE,
    MAX_ANGLE,
    RATIO_RANGE,
    SCALE_RANGE,
    AugmentParams,
    apply_params,
    draw_params,
    variant_matrix,
)
from preprocessing.opencv import cv2
from preprocessing.pipeline import image_id_of, upright_rgb

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


def test_the_parameter_draws_are_those_of_the_pillow_variants():
    # The seeded draws are part of the dataset's contract: the same (id, k), the same recipe.
    assert draw_params(IMAGE_ID, 0) == AugmentParams(
        scale=0.5039509729061744,
        ratio=1.098375042512095,
        centre_x=0.574873737960055,
        centre_y=0.18058136486038956,
        flip=True,
        angle=3.5546485467259394,
        brightness=1.0699344695835027,
        contrast=1.1791843298422051,
        saturation=1.009545206141157,
    )


@pytest.mark.parametrize("size", [(300, 200), (200, 300), (50, 50), (10, 7), (2000, 300)], ids=str)
def test_the_warp_never_samples_past_the_images_edge(size):
    # Pixel i covers i - 0.5..i + 0.5 in the warp's coordinates; the corners are the extremes.
    width, height = size
    corners = np.array([[0, 0, 1], [223, 0, 1], [0, 223, 1], [223, 223, 1]]).T

    for params in MANY[:100]:
        x, y = variant_matrix(params, width, height) @ corners
        assert np.all((x >= -0.5) & (x <= width - 0.5) & (y >= -0.5) & (y <= height - 0.5))


def _sample_variants():
    """(name, one-warp variant, Pillow variant) for variants 0..3 of every photo in img/."""
    for path in sorted(SAMPLES.glob("*/*.jpg")):
        data = path.read_bytes()
        upright = upright_rgb(data)[0]
        for k in range(4):
            params = draw_params(image_id_of(data), k)
            yield f"{path.name}:{k}", apply_params(upright, params), pillow_variant(upright, params)


def _content(tensor: np.ndarray) -> np.ndarray:
    """The picture at 56x56: what it shows, without the sharpness of its resampling."""
    return cv2.resize(tensor, (56, 56), interpolation=cv2.INTER_AREA).astype(float)


def test_each_variant_shows_what_the_pillow_variant_of_the_same_parameters_shows():
    # One bilinear resampling is sharper than Pillow's two (resize, then rotate), and the colour
    # matrix rounds where Pillow's three enhancements truncate (about 1.5 levels darker): so
    # compare content, at a quarter of the size.
    for name, ours, pillows in _sample_variants():
        ours, pillows = _content(ours), _content(pillows)
        assert np.corrcoef(ours.ravel(), pillows.ravel())[0, 1] > 0.98, name
        assert np.abs(ours - pillows).mean() < 8, name


def test_no_variant_has_a_dark_corner_where_the_pillow_variant_has_none():
    blocks = list(itertools.product((slice(0, 16), slice(-16, None)), repeat=2))
    for name, ours, pillows in _sample_variants():
        for rows, cols in blocks:
            darker = pillows[rows, cols].astype(float).mean() - ours[rows, cols].mean()
            assert darker < 30, name

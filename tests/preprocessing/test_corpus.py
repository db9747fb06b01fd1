"""Real camera and phone photos from ../shared/corpus agree with exiftool and show upright scenes.

Skipped where the corpus folder is absent; every behaviour here also has a synthetic test.
"""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from preprocessing import process_image

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
EXPECTED = (
    json.loads((CORPUS / "expected.json").read_text())
    if (CORPUS / "expected.json").is_file()
    else {}
)

pytestmark = pytest.mark.skipif(not EXPECTED, reason=f"no test corpus at {CORPUS}")


def _metadata(name: str):
    return process_image((CORPUS / name).read_bytes(), n_variants=0).metadata


def _grey_base(name: str) -> np.ndarray:
    base = process_image((CORPUS / name).read_bytes(), n_variants=0).base
    return base.astype(float) @ [0.299, 0.587, 0.114]


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_gps_equals_exiftool_to_a_millionth_of_a_degree(name):
    metadata, expected = _metadata(name), EXPECTED[name]

    for ours, theirs in ((metadata.lat, expected["lat"]), (metadata.lon, expected["lon"])):
        if theirs is None:
            assert ours is None
        else:
            assert ours == pytest.approx(theirs, abs=1e-6)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stored_size_and_orientation_equal_exiftool(name):
    metadata, expected = _metadata(name), EXPECTED[name]

    assert (metadata.width, metadata.height) == (expected["width"], expected["height"])
    assert metadata.orientation == expected["orientation"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_camera_make_and_model_equal_exiftool(name):
    metadata, expected = _metadata(name), EXPECTED[name]

    assert (metadata.camera_make, metadata.camera_model) == (expected["make"], expected["model"])


@pytest.fixture(scope="module")
def landscape_1() -> np.ndarray:
    return _grey_base("orientation/landscape_1.jpg")


@pytest.mark.parametrize("orientation", range(2, 9))
def test_every_orientation_file_shows_the_scene_of_landscape_1(orientation, landscape_1):
    # Before profiles were applied landscape_1 was brighter: correlation ignores brightness.
    tensor = _grey_base(f"orientation/landscape_{orientation}.jpg")

    assert _correlation(tensor, landscape_1) >= 0.9


@pytest.mark.parametrize("orientation", range(2, 9))
def test_the_generic_rgb_profile_of_landscape_2_to_8_makes_them_as_bright_as_landscape_1(
    orientation, landscape_1
):
    # landscape_2..8 embed Apple's "Generic RGB Profile" (gamma 1.8), landscape_1 no profile:
    # read as sRGB, they were about 13 grey levels darker; converted, they match it.
    name = f"orientation/landscape_{orientation}.jpg"

    assert _metadata(name).colour_profile == "Generic RGB Profile -> srgb"
    assert abs(_grey_base(name).mean() - landscape_1.mean()) < 1.5


SRGB_PROFILED = {"cameras/Canon_40D.jpg", "cameras/Nikon_D70.jpg", "cameras/Pentax_K10D.jpg"}


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if n.startswith("cameras/")))
def test_a_cameras_srgb_profile_is_recognised_and_left_alone(name):
    # Three of the cameras embed "sRGB IEC61966-2.1" (exiftool: ICC_Profile), the rest none.
    assert _metadata(name).colour_profile == ("srgb" if name in SRGB_PROFILED else "none")


TURNED = {
    "mirrored": np.fliplr,
    "upside_down": np.flipud,
    "rotated_90": np.rot90,
    "rotated_180": lambda a: np.rot90(a, 2),
    "transposed": np.transpose,
}


@pytest.mark.parametrize("turn", TURNED.values(), ids=TURNED.keys())
def test_a_mirrored_or_rotated_landscape_1_does_not_pass_for_upright(turn, landscape_1):
    assert _correlation(turn(landscape_1), landscape_1) <= 0.66


def test_the_damaged_olympus_jpeg_still_gives_a_normal_tensor():
    processed = process_image((CORPUS / "bad/corrupted.jpg").read_bytes())

    assert processed.base.shape == (224, 224, 3)
    assert processed.base.dtype == np.uint8
    assert processed.base.std() > 10  # a picture, not a blank
    assert len(processed.variants) == 4
    meta = processed.metadata
    assert (meta.width, meta.height) == (3648, 2736)
    assert meta.camera_make.startswith("OLYMPUS")


def test_the_dct_scaled_phone_photo_stays_close_to_a_full_decode():
    data = (CORPUS / "mobile/HMD_Nokia_8.3_5G.jpg").read_bytes()
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    side = min(width, height)
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    full = np.asarray(image.resize((224, 224), Image.Resampling.BILINEAR, box=box)).astype(int)

    base = process_image(data, n_variants=0).base.astype(int)

    assert np.abs(base - full).mean() < 3

"""`python -m preprocessing inspect`: one JSON line per file; bad images are reported, not fatal."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kit.photos import encode, exif_bytes, gps_ifd, scene
from preprocessing import process_image, tensor_sha256

pytestmark = pytest.mark.servers  # each test runs the command in a process of its own

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DOCUMENTED_KEYS = {
    "file", "ok", "error", "format", "width", "height", "orientation",
    "lat", "lon", "captured_at", "sha256", "tensor_sha256",
    "sharpness", "brightness", "clipped_fraction", "phash",
}  # fmt: skip

PHOTO = encode(
    scene(320, 240),
    "jpeg",
    exif=exif_bytes(orientation=1, taken="2024:03:05 14:07:09", gps=gps_ifd(-1.2921, 36.8219)),
)


def inspect(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "preprocessing", "inspect", *map(str, args)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def reports(run: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in run.stdout.splitlines()]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inspect")
    contents = {
        "photo.jpg": PHOTO,
        "really_a_jpeg.png": PHOTO,
        "notes.jpg": b"this is a text file",
        "cut.png": encode(scene(320, 240), "png")[:300],
    }
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in contents}


@pytest.fixture(scope="module")
def run(files) -> subprocess.CompletedProcess:
    return inspect(*files.values())


@pytest.fixture(scope="module")
def by_name(run) -> dict[str, dict]:
    return {Path(report["file"]).name: report for report in reports(run)}


def test_bad_files_do_not_make_the_command_fail(run):
    assert run.returncode == 0, run.stderr


def test_a_png_without_exif_prints_nothing_but_its_report(tmp_path):
    png = tmp_path / "field.png"
    png.write_bytes(encode(scene(320, 240), "png"))

    done = inspect(png)

    assert done.returncode == 0 and done.stderr == ""
    assert [report["file"] for report in reports(done)] == [str(png)]


def test_one_json_line_per_file_in_order(run, files):
    assert [Path(r["file"]) for r in reports(run)] == list(files.values())


def test_every_line_has_the_documented_keys(by_name):
    for report in by_name.values():
        assert set(report) >= DOCUMENTED_KEYS


def test_a_good_file_reports_its_facts(by_name):
    report = by_name["photo.jpg"]

    assert report["ok"] is True
    assert report["error"] is None
    assert (report["format"], report["width"], report["height"]) == ("jpeg", 320, 240)
    assert report["orientation"] == 1
    assert report["lat"] == pytest.approx(-1.2921, abs=1e-6)
    assert report["lon"] == pytest.approx(36.8219, abs=1e-6)
    assert (report["captured_at"], report["captured_at_local"]) == (None, "2024-03-05T14:07:09")


def test_sha256_and_tensor_sha256_match_the_core(by_name):
    processed = process_image(PHOTO, n_variants=0)

    assert by_name["photo.jpg"]["sha256"] == processed.metadata.image_id
    assert by_name["photo.jpg"]["tensor_sha256"] == tensor_sha256(processed.base)


def test_the_curation_signals_match_the_core(by_name):
    curation = process_image(PHOTO, n_variants=0).curation
    report = by_name["photo.jpg"]

    assert report["sharpness"] == curation.sharpness
    assert report["brightness"] == curation.brightness
    assert report["clipped_fraction"] == curation.clipped_fraction
    assert report["phash"] == curation.phash


def test_a_bad_file_has_no_signals(by_name):
    assert by_name["notes.jpg"]["phash"] is None
    assert by_name["notes.jpg"]["sharpness"] is None


def test_the_content_decides_the_format_not_the_file_name(by_name):
    report = by_name["really_a_jpeg.png"]

    assert report["ok"] is True
    assert report["format"] == "jpeg"


@pytest.mark.parametrize(
    ("name", "reason"), [("notes.jpg", "unsupported_format"), ("cut.png", "corrupt")]
)
def test_a_bad_file_is_reported_with_its_reason(by_name, name, reason):
    report = by_name[name]

    assert report["ok"] is False
    assert report["reason"] == reason
    assert report["error"]
    assert report["sha256"] is None


def test_preview_writes_the_base_tensor_and_each_variant_as_png(tmp_path):
    photo = tmp_path / "field.jpg"
    photo.write_bytes(PHOTO)
    previews = tmp_path / "previews"

    run = inspect("--preview", previews, photo)

    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in previews.iterdir()) == [
        "field.png", "field_aug0.png", "field_aug1.png", "field_aug2.png", "field_aug3.png",
    ]  # fmt: skip
    processed = process_image(PHOTO)
    base = np.asarray(Image.open(previews / "field.png"))
    assert base.shape == (224, 224, 3)
    np.testing.assert_array_equal(base, processed.base)
    aug1 = np.asarray(Image.open(previews / "field_aug1.png"))
    np.testing.assert_array_equal(aug1, processed.variants[1].tensor)


def test_a_missing_file_makes_the_command_fail_after_reporting_the_rest(tmp_path):
    photo = tmp_path / "field.jpg"
    photo.write_bytes(PHOTO)
    missing = tmp_path / "nowhere.jpg"

    run = inspect(missing, photo)

    assert run.returncode == 1
    missing_report, photo_report = reports(run)
    assert (missing_report["ok"], missing_report["reason"]) == (False, "unreadable")
    assert photo_report["ok"] is True

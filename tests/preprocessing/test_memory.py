"""Decode memory: estimated from the header, capped, kept under budget, and handed back.

Peaks are read from /proc (VmHWM) of a process of the test's own (memory_probe.py) running
dataset.records.process_upload, what each stream and batch worker runs per photo. Bounds are
generous; the exact figures come from bench/memory_drill.py (docs/performance.md, "Memory").
"""

from __future__ import annotations

import pytest

from kit.photos import (
    FLOOD,
    encode,
    flat_picture,
    flood_file,
    png_header_only,
)
from preprocessing import (
    DEFAULT_MAX_DECODE_MB,
    DEFAULT_MAX_PIXELS,
    TooManyPixels,
    process_image,
    upright_rgb_cost,
)
from preprocessing.memory import MB
from settings import Settings
from tests.preprocessing.memory_probe import measure

# Files of 9 to 36 megapixels, one per way of decoding: (size, mode, format, save options).
SAMPLES = {
    "png_rgba": ((4000, 4000), "RGBA", "png", {"compress_level": 1}),
    "png_16_bit_grey": ((4000, 4000), "I;16", "png", {}),
    "tiff_one_strip": ((4000, 4000), "RGB", "tiff",
                       {"compression": "tiff_adobe_deflate", "strip_size": 2**31 - 1}),
    "webp": ((3000, 3000), "RGB", "webp", {"lossless": True, "method": 0}),
    "heic": ((3000, 3000), "RGB", "heif", {"quality": 10}),
    "progressive_jpeg": ((6000, 6000), "RGB", "jpeg", {"progressive": True}),
}

# Room for what is not the decode: Python objects, the variants, exifread, page rounding.
SLACK_MB = 24


def _sample(tmp_path, name: str) -> tuple:
    size, mode, fmt, options = SAMPLES[name]
    picture = flat_picture(size, "L").convert(mode) if mode == "I;16" else flat_picture(size, mode)
    path = tmp_path / f"{name}.{fmt}"
    path.write_bytes(encode(picture, fmt, **options))
    return path, upright_rgb_cost(path.read_bytes()) / MB


@pytest.mark.servers  # measures a process of its own (memory_probe.py)
@pytest.mark.parametrize("name", SAMPLES)
def test_the_estimate_from_the_header_covers_the_measured_peak_of_processing(tmp_path, name):
    path, estimate_mb = _sample(tmp_path, name)

    report = measure([path], max_decode_mb=DEFAULT_MAX_DECODE_MB)

    assert report["reasons"] == [None]
    spent = report["peak"] - report["before"]
    assert spent <= estimate_mb + SLACK_MB
    assert spent >= 0.6 * estimate_mb - SLACK_MB  # and does not claim budget for nothing


def test_an_image_whose_decode_would_take_more_than_the_cap_is_refused_before_decoding():
    # 5000x5000 1-bit: 25 MB decoded; the file holds no pixel data, so a decode would fail.
    with pytest.raises(TooManyPixels, match="over the limit of 10 MB"):
        process_image(png_header_only(5000, 5000), max_decode_mb=10)


def test_the_default_cap_admits_an_rgba_png_at_the_pixel_cap_but_not_a_9000x9000_webp():
    png = upright_rgb_cost(png_header_only(10_000, 10_000, bit_depth=8, colour_type=6))

    assert 10_000 * 10_000 == DEFAULT_MAX_PIXELS == Settings().max_pixels
    assert png <= DEFAULT_MAX_DECODE_MB * MB == Settings().max_decode_mb * MB
    with pytest.raises(TooManyPixels, match="1,324 MB of memory, over the limit of 512 MB"):
        upright_rgb_cost(flood_file("webp_9000x9000"))


@pytest.mark.servers  # measures a process of its own (memory_probe.py)
@pytest.mark.timeout(300)
def test_a_stream_worker_processing_the_flood_stays_under_the_decode_cap(tmp_path):
    paths = []
    for name in FLOOD:
        paths.append(tmp_path / name)
        paths[-1].write_bytes(flood_file(name))

    report = measure(paths, max_decode_mb=DEFAULT_MAX_DECODE_MB)

    assert report["reasons"] == [None, None, None, "too_many_pixels", None]
    assert report["peak"] - report["before"] < DEFAULT_MAX_DECODE_MB + SLACK_MB
    assert report["after"] - report["before"] < 64  # handed back


@pytest.mark.servers  # measures a process of its own (memory_probe.py)
@pytest.mark.timeout(300)
def test_four_threads_decoding_large_pictures_hand_the_memory_back_afterwards(tmp_path):
    paths = [_sample(tmp_path, name)[0] for name in ("png_rgba", "tiff_one_strip", "heic")]

    report = measure(paths, threads=4, max_decode_mb=DEFAULT_MAX_DECODE_MB)

    assert report["reasons"] == [None, None, None]
    assert report["peak"] - report["before"] > 200  # the threads did hold large pictures
    assert report["after"] - report["before"] < 64

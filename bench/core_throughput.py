"""Base tensors per second: our core against the naive way and against decode-only, side by side.

    .venv/bin/python -m bench.core_throughput [--seconds 3]

naive          PIL open, convert("RGB"), full-size resize to 224x224: what a first script does
decode-only    PIL draft at DCT scale + load; no orientation, no resize: the practical limit
tensor         our base-tensor path: sniff, pixel cap, DCT-scaled decode, orientation, RGB,
               one bilinear warp of the centre square (OpenCV)
pillow tensor  the same with the centre square resized by Pillow: the core before issue 10 §3
full           process_image(n_variants=0): the tensor plus EXIF facts (exifread) and the sha256 id
+4 variants    process_image with the default 4 augmented variants, reported per variant
variant        one variant of an upright image: one affine warp and one colour matrix
pillow variant the same parameters through Pillow's crop-resize, rotate and 3 enhancements

Methods run interleaved, one round over a group's files each in turn, so a change in the
machine's load touches all of them alike and the ratios hold under load.

A second table prices embedded ICC profiles: each group's photos with no profile, with the
corpus's "sRGB IEC61966-2.1" (cameras/Canon_40D.jpg: recognised, not applied) and with its
"Generic RGB Profile" (orientation/landscape_2.jpg: converted) in their JPEG header, through the
tensor path, interleaved the same way. --profiles-only prints just that table.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import struct
import time
from collections.abc import Callable

from PIL import Image, ImageCms

from bench.corpus import CORPUS, load_groups
from bench.pillow_core import pillow_base_tensor, pillow_variant
from preprocessing import process_image
from preprocessing.augment import apply_params, draw_params
from preprocessing.icc import INTENT, SRGB
from preprocessing.opencv import warp_source
from preprocessing.pipeline import upright_rgb
from preprocessing.resize import base_tensor

VARIANTS = 4


def naive(data: bytes) -> None:
    Image.open(io.BytesIO(data)).convert("RGB").resize((224, 224))


def decode_only(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (224, 224))
    image.load()


def tensor(data: bytes) -> None:
    base_tensor(upright_rgb(data)[0])


def pillow_tensor(data: bytes) -> None:
    pillow_base_tensor(upright_rgb(data)[0])


def full(data: bytes) -> None:
    process_image(data, n_variants=0)


def with_variants(data: bytes) -> None:
    process_image(data, n_variants=VARIANTS)


METHODS = {
    "naive": naive,
    "decode-only": decode_only,
    "tensor": tensor,
    "pillow tensor": pillow_tensor,
    "full": full,
    "+4 variants": with_variants,
}


def variant_jobs(files: list[bytes]) -> dict[str, list[Callable[[], object]]]:
    """One call per (file, k) of both variant implementations, on the decoded upright image."""
    jobs: dict[str, list[Callable[[], object]]] = {"variant": [], "pillow variant": []}
    for number, data in enumerate(files):
        upright = upright_rgb(data)[0]
        source = warp_source(upright)
        for k in range(VARIANTS):
            params = draw_params(f"bench-{number}", k)
            jobs["variant"].append(lambda s=source, p=params: apply_params(s, p))
            jobs["pillow variant"].append(lambda u=upright, p=params: pillow_variant(u, p))
    return jobs


def per_second(jobs: dict[str, list[Callable[[], object]]], seconds: float) -> dict[str, float]:
    """Calls per second of each job list, rounds interleaved until `seconds` have passed."""
    for calls in jobs.values():
        calls[0]()  # warm caches and lazy imports
    spent = dict.fromkeys(jobs, 0.0)
    done = dict.fromkeys(jobs, 0)
    start, rounds = time.perf_counter(), 0
    while rounds < 2 or time.perf_counter() - start < seconds * len(jobs):
        for name, calls in jobs.items():
            began = time.perf_counter()
            for call in calls:
                call()
            spent[name] += time.perf_counter() - began
            done[name] += len(calls)
        rounds += 1
    return {name: done[name] / spent[name] for name in jobs}


def _jpeg_segments(data: bytes):
    """(marker, whole segment) of a JPEG's header up to its first scan; then the rest as one."""
    at = 2
    while data[at + 1] != 0xDA:
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        yield data[at + 1], data[at : at + 2 + length]
        at += 2 + length
    yield 0xDA, data[at:]


def with_profile(data: bytes, profile: bytes | None) -> bytes:
    """The JPEG with its ICC segments replaced by `profile` (None: removed), pixels untouched."""
    kept = [s for m, s in _jpeg_segments(data) if not (m == 0xE2 and s[4:16] == b"ICC_PROFILE\0")]
    if profile is None:
        return data[:2] + b"".join(kept)
    body = b"ICC_PROFILE\0\x01\x01" + profile  # one chunk: profiles here are far under 64 KB
    return data[:2] + struct.pack(">BBH", 0xFF, 0xE2, len(body) + 2) + body + b"".join(kept)


def profile_costs(groups: dict[str, list[bytes]], seconds: float) -> None:
    srgb = Image.open(CORPUS / "cameras/Canon_40D.jpg").info["icc_profile"]
    profile = Image.open(CORPUS / "orientation/landscape_2.jpg").info["icc_profile"]
    start = time.perf_counter()
    ImageCms.buildTransform(ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, "RGB", "RGB",
                            INTENT)
    build_ms = (time.perf_counter() - start) * 1000
    print(f"\n# ICC profiles: tensor path, images/s; building a transform: {build_ms:.1f} ms")
    columns = ["no profile", "sRGB", "Generic RGB", "sRGB/none", "Generic/none", "ms added"]
    print(f"{'group':28}" + "".join(f"{name:>14}" for name in columns))
    for group, files in groups.items():
        photos = {name: [with_profile(data, icc) for data in files]
                  for name, icc in (("none", None), ("srgb", srgb), ("generic", profile))}
        jobs = {name: [lambda d=data: tensor(d) for data in datas]
                for name, datas in photos.items()}
        rate = per_second(jobs, seconds)
        plain, named, converted = rate["none"], rate["srgb"], rate["generic"]
        cells = [f"{plain:.1f}", f"{named:.1f}", f"{converted:.1f}", f"{named / plain:.2f}x",
                 f"{converted / plain:.2f}x", f"{(1 / converted - 1 / plain) * 1000:.2f}"]
        print(f"{group:28}" + "".join(f"{cell:>14}" for cell in cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per method and group")
    parser.add_argument("--profiles-only", action="store_true", help="only the ICC profile table")
    args = parser.parse_args()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"# {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, ")
    print(f"# load average {load}; images/s (1 process), ms per variant")
    groups = load_groups()
    if not args.profiles_only:
        throughput(groups, args.seconds)
    profile_costs(groups, args.seconds)


def throughput(groups: dict[str, list[bytes]], seconds: float) -> None:
    columns = [
        *METHODS,
        "tensor/naive",
        "tensor/decode",
        "pillow/decode",
        "full/naive",
        "ms/variant",
        "pillow ms/var",
        "variant gain",
    ]
    print(f"{'group':28}" + "".join(f"{name:>15}" for name in columns))
    for group, files in groups.items():
        jobs = {
            name: [lambda d=data, m=method: m(d) for data in files]
            for name, method in METHODS.items()
        }
        rate = per_second(jobs | variant_jobs(files), seconds)
        cells = [f"{rate[name]:.1f}" for name in METHODS] + [
            f"{rate['tensor'] / rate['naive']:.2f}x",
            f"{rate['tensor'] / rate['decode-only']:.2f}x",
            f"{rate['pillow tensor'] / rate['decode-only']:.2f}x",
            f"{rate['full'] / rate['naive']:.2f}x",
            f"{1000 / rate['variant']:.2f}",
            f"{1000 / rate['pillow variant']:.2f}",
            f"{rate['variant'] / rate['pillow variant']:.1f}x",
        ]
        print(f"{group:28}" + "".join(f"{cell:>15}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()

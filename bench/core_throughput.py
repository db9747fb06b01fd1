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
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import time
from collections.abc import Callable

from PIL import Image

from bench.corpus import load_groups
from bench.pillow_core import pillow_base_tensor, pillow_variant
from preprocessing import process_image
from preprocessing.augment import apply_params, draw_params
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per method and group")
    args = parser.parse_args()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"# {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, ")
    print(f"# load average {load}; images/s (1 process), ms per variant")
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
    for group, files in load_groups().items():
        jobs = {
            name: [lambda d=data, m=method: m(d) for data in files]
            for name, method in METHODS.items()
        }
        rate = per_second(jobs | variant_jobs(files), args.seconds)
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

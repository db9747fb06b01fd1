"""Base tensors per second: our core against the naive way and against decode-only, side by side.

    .venv/bin/python -m bench.core_throughput [--seconds 3]

naive        PIL open, convert("RGB"), full-size resize to 224x224: what a first script does
decode-only  PIL draft at DCT scale + load; no orientation, no resize: the practical limit
tensor       our base-tensor path: sniff, pixel cap, DCT-scaled decode, orientation, RGB,
             one antialiased resize of the centre square
full         process_image(n_variants=0): the tensor plus EXIF facts (exifread) and the sha256 id
+4 variants  process_image with the default 4 augmented variants, reported per variant
"""

from __future__ import annotations

import argparse
import io
import platform
import time

from PIL import Image

from bench.corpus import load_groups
from preprocessing import process_image
from preprocessing.pipeline import upright_rgb
from preprocessing.resize import base_tensor


def naive(data: bytes) -> None:
    Image.open(io.BytesIO(data)).convert("RGB").resize((224, 224))


def decode_only(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (224, 224))
    image.load()


def tensor(data: bytes) -> None:
    base_tensor(upright_rgb(data)[0])


def full(data: bytes) -> None:
    process_image(data, n_variants=0)


def with_variants(data: bytes) -> None:
    process_image(data, n_variants=4)


METHODS = {
    "naive": naive,
    "decode-only": decode_only,
    "tensor": tensor,
    "full": full,
    "+4 variants": with_variants,
}


def images_per_second(method, files: list[bytes], seconds: float) -> float:
    """Rounds over all files until `seconds` have passed (at least two rounds)."""
    method(files[0])  # warm caches and lazy imports
    done, start, rounds = 0, time.perf_counter(), 0
    while rounds < 2 or time.perf_counter() - start < seconds:
        for data in files:
            method(data)
        done += len(files)
        rounds += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per method and group")
    args = parser.parse_args()
    print(f"# {platform.machine()}, Python {platform.python_version()}, images/s (1 process)")
    columns = [*METHODS, "tensor/naive", "tensor/decode", "full/naive", "ms/variant"]
    print(f"{'group':28}" + "".join(f"{name:>14}" for name in columns))
    for group, files in load_groups().items():
        rate = {name: images_per_second(fn, files, args.seconds) for name, fn in METHODS.items()}
        per_variant_ms = (1 / rate["+4 variants"] - 1 / rate["full"]) / 4 * 1000
        cells = [f"{rate[name]:.1f}" for name in METHODS] + [
            f"{rate['tensor'] / rate['naive']:.2f}x",
            f"{rate['tensor'] / rate['decode-only']:.2f}x",
            f"{rate['full'] / rate['naive']:.2f}x",
            f"{per_variant_ms:.2f}",
        ]
        print(f"{group:28}" + "".join(f"{cell:>14}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()

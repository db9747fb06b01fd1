"""Base tensors per second: our core against the naive way and against decode-only, side by side.

    .venv/bin/python -m bench.core_throughput [--seconds 3]

naive        PIL open, convert("RGB"), full-size resize to 224x224: what a first script does
decode-only  PIL draft at DCT scale + load; no orientation, no resize: the practical limit
tensor       our base-tensor path: sniff, pixel cap, DCT-scaled decode, orientation, RGB,
             one antialiased resize of the centre square
full         process_image(n_variants=0): the tensor plus EXIF facts (exifread) and the sha256 id
+4 variants  process_image with the default 4 augmented variants, reported per variant

A second table prices embedded ICC profiles: each group's photos with no profile, with the
corpus's "sRGB IEC61966-2.1" (cameras/Canon_40D.jpg: recognised, not applied) and with its
"Generic RGB Profile" (orientation/landscape_2.jpg: converted) in their JPEG header, through the
tensor path, rounds of the three interleaved. --profiles-only prints just that table.
"""

from __future__ import annotations

import argparse
import io
import platform
import struct
import time

from PIL import Image, ImageCms

from bench.corpus import CORPUS, load_groups
from preprocessing import process_image
from preprocessing.icc import INTENT, SRGB
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


def interleaved_rates(method, groups: list[list[bytes]], seconds: float) -> list[float]:
    """Images per second of `method` on each of `groups`, a round of each in turn, so that load
    from other processes falls on all of them alike."""
    for files in groups:
        method(files[0])
    done, spent = [0] * len(groups), [0.0] * len(groups)
    while min(spent) == 0 or sum(spent) < seconds * len(groups):
        for i, files in enumerate(groups):
            start = time.perf_counter()
            for data in files:
                method(data)
            spent[i] += time.perf_counter() - start
            done[i] += len(files)
    return [n / t for n, t in zip(done, spent, strict=True)]


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
        variants = [[with_profile(data, icc) for data in files] for icc in (None, srgb, profile)]
        plain, named, converted = interleaved_rates(tensor, variants, seconds)
        cells = [f"{plain:.1f}", f"{named:.1f}", f"{converted:.1f}", f"{named / plain:.2f}x",
                 f"{converted / plain:.2f}x", f"{(1 / converted - 1 / plain) * 1000:.2f}"]
        print(f"{group:28}" + "".join(f"{cell:>14}" for cell in cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per method and group")
    parser.add_argument("--profiles-only", action="store_true", help="only the ICC profile table")
    args = parser.parse_args()
    print(f"# {platform.machine()}, Python {platform.python_version()}, images/s (1 process)")
    groups = load_groups()
    if not args.profiles_only:
        throughput(groups, args.seconds)
    profile_costs(groups, args.seconds)


def throughput(groups: dict[str, list[bytes]], seconds: float) -> None:
    columns = [*METHODS, "tensor/naive", "tensor/decode", "full/naive", "ms/variant"]
    print(f"{'group':28}" + "".join(f"{name:>14}" for name in columns))
    for group, files in groups.items():
        rate = {name: images_per_second(fn, files, seconds) for name, fn in METHODS.items()}
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

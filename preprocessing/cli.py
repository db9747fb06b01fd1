"""`python -m preprocessing inspect`: see what the model will see, one JSON line per file."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, fields
from pathlib import Path

from PIL import Image

from adapters.json_logs import quiet_libraries
from preprocessing.curation import CurationSignals
from preprocessing.errors import ImageRejected
from preprocessing.pipeline import (
    DEFAULT_MAX_DECODE_MB,
    DEFAULT_MAX_PIXELS,
    ProcessedImage,
    process_image,
    tensor_sha256,
)

EMPTY_FACTS = dict.fromkeys(
    ("format", "width", "height", "orientation", "lat", "lon", "altitude", "captured_at",
     "captured_at_local", "camera", "sha256", "tensor_sha256",
     *(field.name for field in fields(CurationSignals)))
)


def inspect_file(
    path: Path,
    preview_dir: Path | None,
    n_variants: int,
    max_pixels: int,
    max_decode_mb: int = DEFAULT_MAX_DECODE_MB,
) -> dict:
    """One file's report; bad images are ok=false with the reason, never an exception."""
    report = {"file": str(path), "ok": False, "error": None, "reason": None, **EMPTY_FACTS}
    try:
        data = path.read_bytes()
    except OSError as error:
        error_text = f"cannot read the file: {error.strerror}"
        return {**report, "error": error_text, "reason": "unreadable"}
    try:
        processed = process_image(
            data, n_variants=n_variants, max_pixels=max_pixels, max_decode_mb=max_decode_mb
        )
    except ImageRejected as error:
        return {**report, "error": str(error), "reason": error.reason}
    if preview_dir is not None:
        write_previews(processed, preview_dir / path.stem)
    meta = processed.metadata
    return {
        **report,
        "ok": True,
        "format": meta.format,
        "width": meta.width,
        "height": meta.height,
        "orientation": meta.orientation,
        "lat": meta.lat,
        "lon": meta.lon,
        "altitude": meta.altitude,
        "captured_at": meta.captured_at,
        "captured_at_local": meta.captured_at_local,
        "camera": meta.camera,
        "sha256": meta.image_id,
        "tensor_sha256": tensor_sha256(processed.base),
        **asdict(processed.curation),
    }


def write_previews(processed: ProcessedImage, stem: Path) -> None:
    """<stem>.png for the base tensor and <stem>_aug<k>.png for each variant."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(processed.base).save(stem.with_name(f"{stem.name}.png"))
    for variant in processed.variants:
        Image.fromarray(variant.tensor).save(stem.with_name(f"{stem.name}_aug{variant.k}.png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preprocessing")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="report what the core makes of each file")
    inspect.add_argument("files", nargs="+", type=Path, metavar="FILE")
    inspect.add_argument("--preview", type=Path, metavar="DIR", help="write PNGs of the tensors")
    inspect.add_argument("--variants", type=int, default=4, help="augmented variants to preview")
    inspect.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    inspect.add_argument("--max-decode-mb", type=int, default=DEFAULT_MAX_DECODE_MB)
    args = parser.parse_args(argv)
    quiet_libraries()  # exifread's "PNG file does not have exif data." is not a report
    all_read = True
    for path in args.files:
        report = inspect_file(
            path, args.preview, args.variants, args.max_pixels, args.max_decode_mb
        )
        all_read &= report["reason"] != "unreadable"
        print(json.dumps(report), flush=True)
    return 0 if all_read else 1



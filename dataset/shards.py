"""WebDataset tar shards: one sample per tensor (.npy) with its description (.json)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from dataset.layout import sample_key
from photo.upload import Outcome

if TYPE_CHECKING:
    import webdataset as wds


def samples_of(outcome: Outcome) -> Iterator[dict]:
    """The base tensor and each variant of a processed image as WebDataset samples."""
    processed = outcome.processed
    common = {"image_id": outcome.image_id, "label": outcome.upload.label}
    yield {
        "__key__": sample_key(outcome.image_id, "base"),
        "npy": processed.base,
        "json": {**common, "variant": "base", "params": None},
    }
    for variant in processed.variants:
        name = f"aug{variant.k}"
        yield {
            "__key__": sample_key(outcome.image_id, name),
            "npy": variant.tensor,
            "json": {**common, "variant": name, "params": variant.params.as_dict()},
        }


def open_shard_writer(stream: BinaryIO) -> wds.TarWriter:
    """A TarWriter with a fixed mtime, so the same samples always make the same bytes.

    webdataset is imported here, when a shard is written, not with this module: it imports
    PyTorch where that is installed (seconds), which the commands that only read the manifest
    never need.
    """
    import webdataset as wds

    return wds.TarWriter(stream, mtime=0)

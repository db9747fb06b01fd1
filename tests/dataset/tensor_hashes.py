"""What two runs that should agree compare: every tensor of a dataset, by its bytes."""

from __future__ import annotations

import hashlib

from adapters.object_store import ObjectStore
from dataset import DatasetReader


def tensor_hashes(store: ObjectStore) -> dict[tuple[str, str], str]:
    """sha256 of every tensor the dataset's manifest points to, by (image id, variant)."""
    samples = DatasetReader(store).samples(split_by_worker=False)
    return {(meta["image_id"], meta["variant"]): hashlib.sha256(tensor.tobytes()).hexdigest()
            for tensor, _, meta in samples}

"""Reading stages, plain iterators as in webdataset: shard keys -> streams -> samples -> tensors.

webdataset's own stages do the tar work: `tar_file_expander` reads each stream with tarfile's
"r|" mode, one member at a time, and `group_by_keys` joins a sample's .json and .npy. So only
one sample is in memory at a time, and our shards are read exactly as `webdataset.WebDataset`
reads them. Splitting is webdataset's too: the same environment (PyTorch's worker info, or
RANK/WORLD_SIZE and WORKER/NUM_WORKERS) decides which shards a worker reads.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import webdataset as wds

from adapters.object_store import ObjectStore

# Which variants of each image to yield: a set of names, or None for all of them.
WantedVariants = Mapping[str, frozenset[str] | None]


def shuffled(keys: list[str], seed: int | None) -> list[str]:
    """The keys in a random order drawn from `seed` (the same on every worker and node, so the
    split below is a partition), or as they are for None."""
    if seed is None:
        return keys
    order = list(keys)
    random.Random(seed).shuffle(order)
    return order


def split(keys: Iterable[str], *, by_node: bool, by_worker: bool) -> Iterator[str]:
    """This node's and this DataLoader worker's share of the keys, every n-th as in webdataset."""
    if by_node:
        keys = wds.split_by_node(keys)
    if by_worker:
        keys = wds.split_by_worker(keys)
    yield from keys


def opened(keys: Iterable[str], store: ObjectStore) -> Iterator[dict]:
    """webdataset's {url, stream} for each shard; a stream is closed once it has been read."""
    for key in keys:
        with store.open_stream(key) as stream:
            yield {"url": key, "stream": stream}


def tar_samples(streams: Iterable[dict]) -> Iterator[dict]:
    """webdataset samples ({"__key__", "json", "npy"}, undecoded) from tar streams."""
    return wds.tariterators.group_by_keys(wds.tariterators.tar_file_expander(streams))


def decoded(samples: Iterable[dict], wanted: WantedVariants) -> Iterator[tuple[dict, np.ndarray]]:
    """(meta, tensor) of the wanted samples; a tensor is decoded only if it is wanted."""
    for sample in samples:
        meta = json.loads(sample["json"])
        if meta["image_id"] not in wanted:
            continue
        variants = wanted[meta["image_id"]]
        if variants is None or meta["variant"] in variants:
            yield meta, np.load(io.BytesIO(sample["npy"]))

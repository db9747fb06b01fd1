"""One tensor of one image, read from its shard without reading the rest of the dataset.

The shard is streamed member by member (tarfile's "r|" mode, as webdataset reads it) and the
stream is closed as soon as the wanted member has been read: a look-up costs at most one
shard's bytes up to that member, never a listing or a scan of other shards.
"""

from __future__ import annotations

import io
import tarfile

import numpy as np

from adapters.object_store import ObjectStore
from dataset.layout import sample_key


class SampleMissing(LookupError):
    """The shard holds no such sample: the record and the shard disagree."""


def read_tensor(store: ObjectStore, shard: str, image_id: str, variant: str) -> np.ndarray:
    """The tensor of `image_id`'s `variant` ("base", "aug0", ...) in the shard `shard`.

    Raises SampleMissing if the shard has no such member; the store's own errors (a missing
    shard, an unreachable server) and tarfile.TarError for a damaged shard pass through.
    """
    wanted = f"{sample_key(image_id, variant)}.npy"
    with store.open_stream(shard) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            if member.name == wanted:
                return np.load(io.BytesIO(tar.extractfile(member).read()), allow_pickle=False)
    raise SampleMissing(f"{shard} has no member {wanted}")

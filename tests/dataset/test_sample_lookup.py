"""read_tensor: one image's tensor from its shard, read only as far as its member."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.object_store import LocalStore
from dataset.layout import shard_key
from dataset.sample_lookup import SampleMissing, read_tensor
from dataset.writer import write_group
from tests.dataset.conftest import outcome

GROUP, NAME = "stream", "t-p0-o000000000001"
SHARD = shard_key(GROUP, NAME)


def test_every_tensor_of_a_shard_is_found_as_it_was_written(store):
    photos = [outcome(1), outcome(2)]
    write_group(store, GROUP, NAME, photos)

    for photo in photos:
        assert np.array_equal(read_tensor(store, SHARD, photo.image_id, "base"),
                              photo.processed.base)
        [variant] = photo.processed.variants
        assert np.array_equal(read_tensor(store, SHARD, photo.image_id, "aug0"), variant.tensor)


def test_a_sample_the_shard_does_not_hold_is_sample_missing(store):
    photo = outcome(1)
    write_group(store, GROUP, NAME, [photo])

    with pytest.raises(SampleMissing):
        read_tensor(store, SHARD, photo.image_id, "aug7")
    with pytest.raises(SampleMissing):
        read_tensor(store, SHARD, "f" * 64, "base")


class CountingStore(LocalStore):
    """A local store that counts the bytes read from the streams it opens."""

    bytes_read = 0

    def open_stream(self, key: str):
        stream = super().open_stream(key)
        read = stream.read

        def counted(*args):
            data = read(*args)
            self.bytes_read += len(data)
            return data

        stream.read = counted
        return stream


def test_the_shard_is_read_only_as_far_as_the_wanted_member(tmp_path):
    store = CountingStore(tmp_path)
    photos = [outcome(seed) for seed in range(1, 6)]
    write_group(store, GROUP, NAME, photos)
    shard_size = (tmp_path / SHARD).stat().st_size

    read_tensor(store, SHARD, photos[0].image_id, "base")

    assert 0 < store.bytes_read < shard_size / 3

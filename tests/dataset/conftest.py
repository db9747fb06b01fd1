"""A dataset root per test, local or s3://, and micro-batches written to it as the stream's sink
writes them: one small shard and one commit per group."""

from __future__ import annotations

import functools
import itertools
import uuid

import pytest

from adapters.object_store import LocalStore, ObjectStore, S3Store
from adapters.s3 import make_s3_client
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.writer import write_group
from infra.schemas import ensure_bucket, remove_bucket
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload

FRACTIONS = (1.0, 0.0, 0.0)  # training photos only: samples() yields every variant


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> ObjectStore:
    """An empty dataset root: a directory, or a bucket of its own on the session's S3."""
    if request.param == "local":
        yield LocalStore(tmp_path / "dataset")
        return
    settings = request.getfixturevalue("s3_stack")
    bucket, client = f"compaction-{uuid.uuid4().hex[:10]}", make_s3_client(settings.s3)
    ensure_bucket(client, bucket)
    yield S3Store(bucket, "dataset", settings.s3)
    remove_bucket(client, bucket)


@functools.cache
def outcome(seed: int):
    """A small processed photo (base and one variant), the same for the same seed."""
    data = encode(photo_like(160, 120, seed=seed), "jpeg")
    return process_upload(Upload(data, f"kafka:t/0/{seed}", "maize"), n_variants=1,
                          max_pixels=10**8)


class Stream:
    """Writes groups of photos as the sink does: a shard per group, a commit per group."""

    def __init__(self, store: ObjectStore):
        self.store = store
        self.writer = ManifestWriter(Manifest.of(store), FRACTIONS)
        self.seeds = itertools.count()

    def write(self, *group_sizes: int) -> list[str]:
        """One micro-batch per size; the ids of the photos written."""
        ids = []
        for size in group_sizes:
            seeds = [next(self.seeds) for _ in range(size)]
            rows = write_group(self.store, "stream", f"t-p0-o{seeds[0]:012d}", map(outcome, seeds))
            ids += [row["image_id"] for row in self.writer.commit(rows)]
        return ids


@pytest.fixture
def stream(store) -> Stream:
    return Stream(store)

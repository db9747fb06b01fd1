"""Reading a dataset back, locally and on S3: with webdataset itself, and with samples()."""

from __future__ import annotations

import io
import tarfile
import tracemalloc
import uuid

import numpy as np
import pandas as pd
import pytest
import webdataset as wds

from adapters.object_store import LocalStore, open_store
from adapters.s3 import make_s3_client
from dataset import DatasetReader
from dataset.layout import shard_key
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.shards import open_shard_writer
from dataset.writer import write_group
from infra.schemas import ensure_bucket, remove_bucket
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload

SHARDS, PHOTOS_PER_SHARD, VARIANTS = 4, 2, 2
TENSOR_SHAPE = (224, 224, 3)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """A dataset's store: a directory, or s3:// on the session's SeaweedFS (a bucket of its own)."""
    if request.param == "local":
        yield LocalStore(tmp_path / "dataset")
        return
    settings = request.getfixturevalue("s3_stack")
    s3, bucket = make_s3_client(settings.s3), f"reader-{uuid.uuid4().hex[:8]}"
    ensure_bucket(s3, bucket)
    yield open_store(f"s3://{bucket}/dataset", settings.s3)
    remove_bucket(s3, bucket)


ALL_TRAIN = (1.0, 0.0, 0.0)


def write_shards(store, fractions=ALL_TRAIN) -> dict:
    """SHARDS groups of photos written by write_group and committed; each shard's outcomes."""
    shards, rows = {}, []
    for group in range(SHARDS):
        outcomes = [outcome(group * PHOTOS_PER_SHARD + i) for i in range(PHOTOS_PER_SHARD)]
        rows += write_group(store, "batch", f"part-{group}", outcomes)
        shards[shard_key("batch", f"part-{group}")] = outcomes
    ManifestWriter(Manifest.of(store), fractions).commit(rows)
    return shards


@pytest.fixture
def written(store):
    """The reader of a dataset of training photos, and each shard's outcomes."""
    return DatasetReader(store), write_shards(store)


def test_val_and_test_images_yield_only_their_base_tensor_unless_asked(tmp_path):
    store = LocalStore(tmp_path)
    write_shards(store, fractions=(0.0, 0.5, 0.5))
    reader = DatasetReader(store)
    assert set(reader.manifest()["split"]) == {"val", "test"}
    assert {meta["variant"] for _, _, meta in reader.samples()} == {"base"}
    asked = {meta["variant"] for _, _, meta in reader.samples(variants=["base", "aug0"])}
    assert asked == {"base", "aug0"}


def outcome(seed: int):
    data = encode(photo_like(160, 120, seed=seed), "jpeg")
    return process_upload(Upload(data, f"test:{seed}", "maize"), n_variants=VARIANTS,
                          max_pixels=10**8)


def tensors_of(outcome) -> dict[str, np.ndarray]:
    processed = outcome.processed
    return {"base": processed.base, **{f"aug{v.k}": v.tensor for v in processed.variants}}


def written_npy(reader: DatasetReader, shard: str) -> dict[str, bytes]:
    """The .npy members of a shard as the store holds them, by sample key."""
    with tarfile.open(fileobj=io.BytesIO(reader.store.get_bytes(shard))) as tar:
        return {m.name.removesuffix(".npy"): tar.extractfile(m).read()
                for m in tar if m.name.endswith(".npy")}


def image_order(samples) -> list[str]:
    """Image ids in the order their samples came, each once."""
    return list(dict.fromkeys(meta["image_id"] for _, _, meta in samples))


def shard_order(samples, shards) -> list[str]:
    shard_of = {o.image_id: key for key, outcomes in shards.items() for o in outcomes}
    return list(dict.fromkeys(shard_of[image_id] for image_id in image_order(samples)))


def test_webdataset_opens_the_shard_urls_and_yields_every_sample_byte_for_byte(written):
    reader, shards = written
    urls = reader.shard_urls()

    samples = list(wds.WebDataset(urls, shardshuffle=False))

    expected = {k: v for shard in sorted(shards) for k, v in written_npy(reader, shard).items()}
    assert {s["__key__"]: s["npy"] for s in samples} == expected
    assert len(samples) == SHARDS * PHOTOS_PER_SHARD * (1 + VARIANTS)


def test_shard_urls_name_the_shards_the_rows_reference_not_every_shard_stored(written):
    reader, shards = written
    reader.store.put_bytes(shard_key("batch", "superseded"), b"an old shard")
    first = sorted(shards)[0]
    rows = reader.manifest().query("shard_key == @first")

    assert len(reader.shard_urls()) == SHARDS
    [url] = reader.shard_urls(rows)
    assert [s["__key__"] for s in wds.WebDataset([url], shardshuffle=False)] == list(
        written_npy(reader, first)
    )


def test_samples_are_the_tensors_written_with_their_labels(written):
    reader, shards = written

    samples = list(reader.samples())

    expected = {(o.image_id, name): tensor for outcomes in shards.values() for o in outcomes
                for name, tensor in tensors_of(o).items()}
    got = {(meta["image_id"], meta["variant"]): tensor for tensor, _, meta in samples}
    assert got.keys() == expected.keys()
    assert all(np.array_equal(got[key], expected[key]) for key in expected)
    assert {label for _, label, _ in samples} == {"maize"}


def test_samples_keep_only_the_rows_and_variants_asked_for(written):
    reader, shards = written
    wanted = [o.image_id for outcomes in shards.values() for o in outcomes][::3]
    rows = reader.manifest().query("image_id in @wanted")

    samples = list(reader.samples(rows, variants=["base", "aug1"]))

    assert sorted((m["image_id"], m["variant"]) for _, _, m in samples) == sorted(
        (image_id, variant) for image_id in wanted for variant in ("base", "aug1")
    )


def test_a_shuffle_seed_gives_one_order_of_the_shards_each_read_once(written):
    reader, shards = written

    orders = {seed: shard_order(reader.samples(shuffle_seed=seed), shards) for seed in (1, 2)}

    assert shard_order(reader.samples(shuffle_seed=1), shards) == orders[1]
    assert orders[1] != orders[2]
    assert sorted(orders[1]) == sorted(orders[2]) == sorted(shards)
    assert shard_order(reader.samples(), shards) == sorted(shards)


@pytest.mark.parametrize("index, count", [("WORKER", "NUM_WORKERS"), ("RANK", "WORLD_SIZE")])
def test_workers_and_nodes_each_read_every_other_shard_of_one_shuffle(
    written, monkeypatch, index, count
):
    """Told which worker or node they are the way webdataset reads it (no torch needed)."""
    reader, shards = written
    whole = shard_order(reader.samples(shuffle_seed=7), shards)
    monkeypatch.setenv(count, "2")
    parts = []
    for n in (0, 1):
        monkeypatch.setenv(index, str(n))
        parts.append(shard_order(reader.samples(shuffle_seed=7, split_by_node=True), shards))

    assert parts == [whole[0::2], whole[1::2]]


def test_a_worker_reads_every_shard_when_told_not_to_split(written, monkeypatch):
    reader, shards = written
    monkeypatch.setenv("WORKER", "1")
    monkeypatch.setenv("NUM_WORKERS", "2")

    assert len(shard_order(reader.samples(split_by_worker=False), shards)) == SHARDS


def test_a_shard_is_streamed_one_sample_at_a_time(store):
    """A 30 MB shard is read with a few samples' worth of memory, not the shard's."""
    key, count = shard_key("big", "one"), 200
    ids = [f"img{i:03d}" for i in range(count)]
    rng = np.random.default_rng(0)
    with io.BytesIO() as buffer:
        shard = open_shard_writer(buffer)
        for image_id in ids:
            tensor = rng.integers(0, 256, TENSOR_SHAPE, dtype=np.uint8)
            meta = {"image_id": image_id, "label": None, "variant": "base"}
            shard.write({"__key__": f"{image_id}_base", "npy": tensor, "json": meta})
        shard.close()
        store.put_bytes(key, buffer.getvalue())
    reader, rows = DatasetReader(store), pd.DataFrame({"image_id": ids, "shard_key": key})
    next(reader.samples(rows))  # the S3 client and lazy imports are made outside the count

    tracemalloc.start()
    try:
        read = sum(1 for _ in reader.samples(rows))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert read == count
    assert peak < 8 * np.prod(TENSOR_SHAPE)

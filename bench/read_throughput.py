"""Samples per second from S3: webdataset and our reader against plain reads of the same tars.

    .venv/bin/python -m bench.read_throughput [--shards 20] [--samples-per-shard 330] [--rounds 3]

Writes --shards tars of 224x224x3 uint8 samples (.npy + .json, as the pipeline writes them;
330 samples make a ~50 MB shard) to a bucket of this run's own on the configured S3, then,
in each round and in turn:

plain       boto3 get_object of every tar, read through in 1 MB chunks: the limit
webdataset  webdataset.WebDataset(reader.shard_urls(rows)).decode(), every sample's npy
            decoded (presigned URLs, read by a curl subprocess)
reader      DatasetReader.samples(rows): streamed tars, (tensor, label, meta) per sample
local       the reader on a local copy of the same shards (in the page cache): what reading
            and decoding cost without a network, the CPU ceiling of one process

and prints each one's median samples/s and MB/s and its ratio to plain. The bucket is removed.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable

import numpy as np
import pandas as pd
import webdataset as wds

from adapters.object_store import LocalStore, ObjectStore, open_store
from adapters.s3 import make_s3_client
from dataset import DatasetReader
from dataset.layout import shard_key
from dataset.shards import open_shard_writer
from infra.schemas import ensure_bucket, remove_bucket
from settings import Settings

TENSOR_SHAPE = (224, 224, 3)
CHUNK = 1 << 20
PREFIX = "dataset"


def write_shards(store: ObjectStore, shards: int, per_shard: int) -> pd.DataFrame:
    """Shards of random tensors with pipeline-like descriptions; their manifest rows."""
    rng, rows = np.random.default_rng(0), []
    for s in range(shards):
        key, buffer = shard_key("bench", f"part-{s:03d}"), io.BytesIO()
        writer = open_shard_writer(buffer)
        for i in range(per_shard):
            image_id = f"{s:03d}{i:05d}"
            writer.write({
                "__key__": f"{image_id}_base",
                "npy": rng.integers(0, 256, TENSOR_SHAPE, dtype=np.uint8),
                "json": {"image_id": image_id, "label": "maize", "variant": "base",
                         "params": None},
            })
            rows.append({"image_id": image_id, "shard_key": key})
        writer.close()
        store.put_bytes(key, buffer.getvalue())
    return pd.DataFrame(rows)


def plain(s3, bucket: str, keys: list[str]) -> int:
    """Bytes read by sequential GETs of every shard."""
    read = 0
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/{key}")["Body"]
        read += sum(len(chunk) for chunk in body.iter_chunks(CHUNK))
    return read


def through_webdataset(reader: DatasetReader, rows: pd.DataFrame) -> int:
    dataset = wds.WebDataset(reader.shard_urls(rows), shardshuffle=False).decode()
    return sum(1 for sample in dataset if sample["npy"].shape == TENSOR_SHAPE)


def through_reader(reader: DatasetReader, rows: pd.DataFrame) -> int:
    return sum(1 for tensor, _, _ in reader.samples(rows) if tensor.shape == TENSOR_SHAPE)


def seconds_of(run: Callable[[], int], expected: int) -> float:
    start = time.perf_counter()
    done = run()
    if done != expected:
        raise RuntimeError(f"read {done}, expected {expected}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=20)
    parser.add_argument("--samples-per-shard", type=int, default=330)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings, bucket = Settings.from_env(), f"bench-read-{uuid.uuid4().hex[:8]}"
    s3, store = make_s3_client(settings.s3), open_store(f"s3://{bucket}/{PREFIX}", settings.s3)
    ensure_bucket(s3, bucket)
    scratch = tempfile.TemporaryDirectory()
    try:
        rows = write_shards(store, args.shards, args.samples_per_shard)
        local = LocalStore(scratch.name)
        for key in rows["shard_key"].unique():
            local.put_bytes(key, store.get_bytes(key))
        keys = sorted(rows["shard_key"].unique())
        reader, samples = DatasetReader(store), len(rows)
        total = plain(s3, bucket, keys)  # warm the server's caches before the first timing
        runs = {
            "plain": lambda: plain(s3, bucket, keys),
            "webdataset": lambda: through_webdataset(reader, rows),
            "reader": lambda: through_reader(reader, rows),
            "local": lambda: through_reader(DatasetReader(local), rows),
        }
        expected = {"plain": total, **dict.fromkeys(["webdataset", "reader", "local"], samples)}
        times = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                times[name].append(seconds_of(run, expected[name]))
    finally:
        remove_bucket(s3, bucket)
        scratch.cleanup()
    print(f"# {platform.machine()}, Python {platform.python_version()}, {args.shards} shards, "
          f"{samples} samples, {total / 1e6:.0f} MB on {settings.s3.endpoint_url}, "
          f"median of {args.rounds} rounds")
    limit = statistics.median(times["plain"])
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"{name:12}{median:8.2f} s {samples / median:10.0f} samples/s "
              f"{total / median / 1e6:8.0f} MB/s {limit / median:8.2f}x plain")


if __name__ == "__main__":
    main()

"""A day of low-rate streaming, before and after compaction, against the batch job's layout.

    .venv/bin/python -m bench.compaction_bench [--groups 2000] [--variants 0]

The photos of img/ go through the core once; copies of each with a few bytes appended (a new
image id, the same tensors) make the day. stream: --groups micro-batch groups of 1-3 photos,
each written with write_group and committed with ManifestWriter, as the stream's sink does (a
shard and a Delta commit per group). batch: the same photos in one commit, one shard per
two-hex-digit id bucket, as the batch job writes them. Both on a new bucket of the local S3.
Timed: manifest() (load the table, every row) and reading every sample, for stream, stream
after `python -m dataset compact` (retention 0), and batch.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
import uuid
from dataclasses import replace

from adapters.object_store import S3Store
from adapters.s3 import make_s3_client
from dataset import DatasetReader
from dataset.__main__ import compact
from dataset.compaction import TARGET_BYTES
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.writer import write_group
from infra.schemas import ensure_bucket, remove_bucket
from photo.upload import Outcome, Upload, process_upload
from preprocessing import DEFAULT_MAX_PIXELS, image_id_of
from settings import PROJECT_ROOT, Settings

FRACTIONS = (0.8, 0.1, 0.1)
BUCKET_DIGITS = 2


def originals(n_variants: int) -> list[Outcome]:
    paths = sorted((PROJECT_ROOT / "img").glob("*/*.jpg"))
    return [process_upload(Upload(path.read_bytes(), path.name, path.parent.name),
                           n_variants=n_variants, max_pixels=DEFAULT_MAX_PIXELS)
            for path in paths]


def copy_of(outcome: Outcome, n: int) -> Outcome:
    """The same tensors under a new image id: the photo's bytes with a suffix."""
    data = outcome.upload.data + f"copy{n}".encode()
    return replace(outcome, upload=replace(outcome.upload, data=data), image_id=image_id_of(data))


def day_of_groups(photos: list[Outcome], groups: int, rng: random.Random) -> list[list[Outcome]]:
    copies = (copy_of(photos[n % len(photos)], n) for n in itertools.count())
    return [list(itertools.islice(copies, rng.randint(1, 3))) for _ in range(groups)]


def write_stream(store: S3Store, day: list[list[Outcome]]) -> None:
    writer = ManifestWriter(Manifest.of(store), FRACTIONS)
    offset = 0
    for group in day:
        writer.commit(write_group(store, "stream", f"day-p0-o{offset:012d}", group))
        offset += len(group)


def write_batch(store: S3Store, day: list[list[Outcome]]) -> None:
    photos = sorted((outcome for group in day for outcome in group), key=lambda o: o.image_id)
    rows = []
    for bucket, outcomes in itertools.groupby(photos, key=lambda o: o.image_id[:BUCKET_DIGITS]):
        rows += write_group(store, "batch", bucket, outcomes)
    ManifestWriter(Manifest.of(store), FRACTIONS).commit(rows)


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def measure(name: str, store: S3Store) -> tuple[float, float]:
    rows, manifest_s = timed(lambda: DatasetReader(store).manifest())
    count, samples_s = timed(lambda: sum(1 for _ in DatasetReader(store).samples()))
    shards = rows["shard_key"].nunique()
    print(f"{name:24} | {len(rows):6,} rows | {shards:5,} shards | manifest() {manifest_s:6.2f} s"
          f" | {count:6,} samples {samples_s:6.1f} s")
    return manifest_s, samples_s


def run(settings: Settings, groups: int, n_variants: int, bucket: str) -> None:
    day = day_of_groups(originals(n_variants), groups, random.Random(8))
    stream, batch = (S3Store(bucket, prefix, settings.s3) for prefix in ("stream", "batch"))
    _, stream_s = timed(lambda: write_stream(stream, day))
    _, batch_s = timed(lambda: write_batch(batch, day))
    print(f"{groups} groups, {sum(map(len, day))} photos, {n_variants} variants: written by the "
          f"stream in {stream_s:.0f} s ({1000 * stream_s / groups:.0f} ms a group), by the batch "
          f"in {batch_s:.0f} s")
    measure("stream", stream)
    lines, compact_s = timed(lambda: list(compact(stream, TARGET_BYTES, retention_hours=0)))
    print(f"compact in {compact_s:.1f} s: " + "; ".join(lines))
    after = measure("stream, compacted", stream)
    reference = measure("batch", batch)
    print(f"compacted / batch: manifest() {after[0] / reference[0]:.2f}x, "
          f"samples {after[1] / reference[1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--variants", type=int, default=0)
    args = parser.parse_args()
    settings = Settings.from_env()
    bucket, client = f"compaction-bench-{uuid.uuid4().hex[:8]}", make_s3_client(settings.s3)
    ensure_bucket(client, bucket)
    try:
        run(settings, args.groups, args.variants, bucket)
    finally:
        remove_bucket(client, bucket)


if __name__ == "__main__":
    main()

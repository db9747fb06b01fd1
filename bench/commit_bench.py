"""Delta commit time per micro-batch as the manifest grows to 100k rows: it must stay flat.

    .venv/bin/python -m bench.commit_bench [--rows 100000] [--root s3://bucket/prefix]

The table grows by big commits (GROW rows each) between measuring points; at each point,
MEASURED micro-batches of 1-3 rows are committed through ManifestWriter.commit, as the stream's
driver does (label corrections, catalog refresh, duplicate groups, the Delta append), each
timed. After each, a stream writer's look-up is timed too: its own catalogue (as a Python worker
keeps one, dataset/catalog.py) refreshed and asked for a LOOKED_UP-message batch, which must
stay flat as well; and at each point, a new worker's first refresh (a cold start), which grows
with the table. Rows are synthetic: random ids and pHashes. The root is a new bucket on the
local S3 unless given.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid

from adapters.object_store import open_store
from adapters.s3 import make_s3_client
from dataset.catalog import Catalog
from dataset.image_record import FIELD_NAMES
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from infra.schemas import ensure_bucket, remove_bucket
from settings import Settings

GROW = 5_000
MEASURED = 20
LOOKED_UP = 60  # streaming.job's MAX_OFFSETS_PER_TRIGGER
FRACTIONS = (0.8, 0.1, 0.1)


def synthetic_rows(count: int, rng: random.Random) -> list[dict]:
    rows = []
    for _ in range(count):
        image_id = f"{rng.getrandbits(256):064x}"
        rows.append({**dict.fromkeys(FIELD_NAMES), "image_id": image_id, "status": "processed",
                     "label": "maize", "phash": f"{rng.getrandbits(64):016x}",
                     "source": f"kafka:bench/0/{rng.getrandbits(40)}",
                     "shard_key": f"shards/stream/t-p0-o{rng.getrandbits(40):012d}.tar",
                     "variants": ["base"]})
    return rows


def timed_commits(
    writer: ManifestWriter, lookups: Catalog, rng: random.Random
) -> tuple[list[float], list[float]]:
    """Seconds of each commit, and of the writer's look-up after it."""
    commits, looked_up = [], []
    for _ in range(MEASURED):
        rows = synthetic_rows(rng.randint(1, 3), rng)
        start = time.perf_counter()
        writer.commit(rows)
        commits.append(time.perf_counter() - start)
        ids = [row["image_id"] for row in rows] + [f"{rng.getrandbits(256):064x}"
                                                   for _ in range(LOOKED_UP - len(rows))]
        start = time.perf_counter()
        lookups.refresh()
        assert sum(lookups.source_of(image_id) is not None for image_id in ids) == len(rows)
        looked_up.append(time.perf_counter() - start)
    return commits, looked_up


def cold_start(manifest: Manifest) -> float:
    """Seconds of a new catalogue's first refresh."""
    start = time.perf_counter()
    Catalog(manifest).refresh()
    return time.perf_counter() - start


def run(root: str, settings: Settings, total: int) -> None:
    rng = random.Random(7)
    store = open_store(root, settings.s3)
    writer = ManifestWriter.of(store, FRACTIONS)  # as the stream's driver does
    lookups = Catalog(Manifest.of(store))  # as a stream writer does
    points = [0, 1_000, 10_000, 25_000, 50_000, total]
    rows = 0
    print(f"rows in table | commit ms p50 / p95 / max | {LOOKED_UP}-message look-up ms p50 / p95 "
          "/ max | cold start ms | data files")
    for point in points:
        while rows < point:
            batch = min(GROW, point - rows)
            writer.commit(synthetic_rows(batch, rng))
            rows += batch
        commits, looked_up = timed_commits(writer, lookups, rng)
        rows = writer.manifest.rows(columns=["image_id"]).num_rows
        files = len(writer.manifest.table().file_uris())
        print(f"{rows:>13,} | {spread(commits)} | {spread(looked_up)} | "
              f"{1000 * cold_start(writer.manifest):6.0f} | {files}")


def spread(seconds: list[float]) -> str:
    """p50 / p95 / max in ms."""
    ms = sorted(1000 * s for s in seconds)
    return f"{statistics.median(ms):6.0f} / {ms[int(0.95 * len(ms))]:4.0f} / {ms[-1]:4.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--root", help="default: a new bucket on the local S3, removed after")
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.root:
        run(args.root, settings, args.rows)
        return
    bucket, client = f"commit-bench-{uuid.uuid4().hex[:8]}", make_s3_client(settings.s3)
    ensure_bucket(client, bucket)
    try:
        run(f"s3://{bucket}/dataset", settings, args.rows)
    finally:
        remove_bucket(client, bucket)


if __name__ == "__main__":
    main()

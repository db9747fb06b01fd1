"""Compaction: the stream's many small shards merged into few large ones, safely while it writes.

A run starts from the manifest's current version. It takes the shards smaller than half the
target size, bins them in key order up to the target, and writes each bin as one shard named
after the run (shards/compact/v00000042-000000.tar, -000001, ...: a WebDataset brace pattern).
The tar members of an image are copied unchanged, so its samples stay byte-identical; only the
members of images whose current row names the old shard are copied. Old shards are read one at
a time and the new one is spooled to disk past SPOOL_BYTES, so memory stays bounded.

Then one Delta merge moves the rows: shard_key changes only where the image id matches AND the
row still names the old shard, so a row that a concurrent commit changed meanwhile is left as
it is, and rows the stream appends are never touched. A commit conflict is retried against the
new version. The old shards stay in place: versions before the merge (a named snapshot's, a
reader's) still read them. Each run leaves a record, compaction/<run>.json, of the shards it
superseded; cleanup (dataset/cleanup.py) deletes them once no version it must keep needs them.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pyarrow as pa
from deltalake import DeltaTable

from adapters.object_store import ObjectStore
from dataset.delta_tables import KEEP_LOG
from dataset.layout import SHARD_PREFIX, image_id_of_sample, shard_key
from dataset.manifest import Manifest
from dataset.writer import SPOOL_BYTES

TARGET_BYTES = 256 * 1024 * 1024
COMPACT_GROUP = "compact"
RECORD_PREFIX = "compaction/"
MOVES_SCHEMA = pa.schema([("image_id", pa.string()), ("old_shard_key", pa.string()),
                          ("shard_key", pa.string())])


@dataclass(frozen=True)
class CompactionRun:
    """What one run wrote and superseded: its record."""

    run: str
    from_version: int
    written: list[str]
    superseded: list[str]
    created_at: str

    @property
    def brace_pattern(self) -> str:
        """The run's shards as one WebDataset URL pattern."""
        last = len(self.written) - 1
        return shard_key(COMPACT_GROUP, f"{self.run}-{{000000..{last:06d}}}")


@dataclass(frozen=True)
class Compacted:
    """A run, and how many rows its merge moved to the new shards."""

    run: CompactionRun
    moved: int


def plan_bins(sizes: dict[str, int], target_bytes: int) -> list[list[str]]:
    """The shards under half the target, in key order, binned up to the target; a bin of one
    shard would gain nothing and is left out."""
    bins: list[list[str]] = []
    filled = target_bytes
    for key in sorted(sizes):
        if sizes[key] >= target_bytes / 2:
            continue
        if filled + sizes[key] > target_bytes:
            bins.append([])
            filled = 0
        bins[-1].append(key)
        filled += sizes[key]
    return [shards for shards in bins if len(shards) > 1]


def compact_shards(store: ObjectStore, target_bytes: int = TARGET_BYTES) -> Compacted | None:
    """Merge the small shards of the current version; None when there is nothing to merge."""
    manifest = Manifest.of(store)
    version = manifest.version()
    if version is None:
        return None
    images = images_by_shard(manifest, version)
    sizes = store.sizes(SHARD_PREFIX)
    bins = plan_bins({key: sizes[key] for key in images}, target_bytes)
    if not bins:
        return None
    run = f"v{version:08d}"
    written = [shard_key(COMPACT_GROUP, f"{run}-{index:06d}") for index in range(len(bins))]
    record = CompactionRun(run, version, written, [key for shards in bins for key in shards],
                           datetime.now(UTC).isoformat(timespec="seconds"))
    moves = []
    for target, shards in zip(written, bins, strict=True):
        write_bin(store, target, shards, images)
        moves += [(image_id, old, target) for old in shards for image_id in sorted(images[old])]
    # Recorded before the merge: cleanup only deletes what no version it keeps names, so the
    # record of a merge that never commits deletes nothing.
    store.put_bytes(record_key(run), json.dumps(asdict(record), indent=2).encode())
    return Compacted(record, commit_moves(manifest, moves))


def images_by_shard(manifest: Manifest, version: int) -> dict[str, set[str]]:
    """shard key -> the ids of the images whose row names it, at the version."""
    images: dict[str, set[str]] = defaultdict(set)
    for row in manifest.rows(version, ["image_id", "shard_key"]).to_pylist():
        if row["shard_key"]:
            images[row["shard_key"]].add(row["image_id"])
    return images


def write_bin(
    store: ObjectStore, target: str, shards: list[str], images: dict[str, set[str]]
) -> None:
    """One shard of the members of `shards` whose image still lives there, copied unchanged."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        with tarfile.open(fileobj=spool, mode="w") as merged:
            for old in shards:
                with tarfile.open(fileobj=io.BytesIO(store.get_bytes(old))) as source:
                    for member in source:
                        if image_id_of_sample(member.name) in images[old]:
                            merged.addfile(member, source.extractfile(member))
        spool.seek(0)
        store.put_stream(target, spool)


def commit_moves(manifest: Manifest, moves: list[tuple[str, str, str]]) -> int:
    """Point the rows at their new shards in one commit, where they still name the old one;
    the number of rows moved."""
    source = pa.Table.from_pylist(
        [dict(zip(MOVES_SCHEMA.names, move, strict=True)) for move in moves], schema=MOVES_SCHEMA
    )

    def move(table: DeltaTable) -> int:
        metrics = (
            table.merge(source, "t.image_id = s.image_id AND t.shard_key = s.old_shard_key",
                        source_alias="s", target_alias="t", post_commithook_properties=KEEP_LOG)
            .when_matched_update({"shard_key": "s.shard_key"})
            .execute()
        )
        return metrics["num_target_rows_updated"]

    return manifest.on_newest(move)


def compact_table(manifest: Manifest, target_bytes: int = TARGET_BYTES) -> dict:
    """Rewrite the table's small data files into few, then checkpoint the log, so loading the
    table reads one checkpoint instead of every commit. Optimize's metrics."""
    table = manifest.table()
    metrics = table.optimize.compact(target_size=target_bytes, post_commithook_properties=KEEP_LOG)
    table.create_checkpoint()
    return metrics


def record_key(run: str) -> str:
    return f"{RECORD_PREFIX}{run}.json"


def runs(store: ObjectStore) -> list[CompactionRun]:
    """Every run's record, oldest first."""
    return [CompactionRun(**json.loads(store.get_bytes(key)))
            for key in store.list_keys(RECORD_PREFIX)]

"""Cleanup: deleting what compaction superseded, never what a version we keep still needs.

The versions kept are the current one and every named snapshot's (dataset/snapshots.py). A
shard is deleted only if a compaction run superseded it (its record says so) at least
`retention_hours` ago, and neither the current version nor a snapshot's names it. A shard no
compaction superseded is never deleted: a stream worker may have just written it, before its
driver commits it. The table's own files go through Delta's vacuum, in its "lite" mode (only
files the log removed, never a file a writer has just added and not yet committed), keeping
every file a snapshot's version reads. The log itself is never cleaned (dataset/manifest.py).

Retention protects readers of older versions that are not snapshots (a DatasetReader opened
before the compaction): within it they still find every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapters.object_store import ObjectStore
from dataset.compaction import runs
from dataset.delta_tables import KEEP_LOG
from dataset.layout import SHARD_PREFIX
from dataset.manifest import Manifest
from dataset.snapshots import snapshots

DEFAULT_RETENTION_HOURS = 24


@dataclass(frozen=True)
class Cleanup:
    deleted_shards: list[str]
    deleted_table_files: list[str]


def clean_up(store: ObjectStore, retention_hours: int = DEFAULT_RETENTION_HOURS) -> Cleanup:
    """Delete the superseded shards and table files that no kept version needs."""
    manifest = Manifest.of(store)
    pinned = sorted({snapshot.version for snapshot in snapshots(store)})
    needed = shards_named(manifest, None)  # read after the snapshots: a newer pin is current
    for version in pinned:
        needed |= shards_named(manifest, version)
    cutoff = datetime.now(UTC) - timedelta(hours=retention_hours)
    superseded = {key for run in runs(store) if datetime.fromisoformat(run.created_at) <= cutoff
                  for key in run.superseded}
    doomed = sorted(superseded.intersection(store.list_keys(SHARD_PREFIX)) - needed)
    store.delete(doomed)
    table = manifest.table()
    files = [] if table is None else table.vacuum(
        retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False,
        keep_versions=pinned, post_commithook_properties=KEEP_LOG,
    )
    return Cleanup(doomed, files)


def shards_named(manifest: Manifest, version: int | None) -> set[str]:
    """The shard keys the rows of a version (the current one by default) name."""
    column = manifest.rows(version, ["shard_key"]).column("shard_key")
    return {key for key in column.unique().to_pylist() if key}

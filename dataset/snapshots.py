"""Named snapshots: a name pinned to one version of the manifest, for good.

A snapshot is `snapshots/<name>.json` beside the dataset: {name, version, rows, created_at}.
Reading a snapshot reads its version of the table, whose rows name the shards they were written
to; compaction leaves those shards in place and cleanup (dataset/cleanup.py) never deletes a
file a snapshot's version needs, so a snapshot gives the same rows and samples, byte for byte,
however the dataset changes afterwards. A name is never moved to another version.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from adapters.object_store import ObjectStore
from dataset.manifest import Manifest

SNAPSHOT_PREFIX = "snapshots/"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class SnapshotError(Exception):
    """A snapshot that cannot be made or found: a bad or taken name, an empty table."""


@dataclass(frozen=True)
class Snapshot:
    name: str
    version: int
    rows: int
    created_at: str


def snapshot_key(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise SnapshotError(f"a snapshot name is letters, digits, '.', '_' and '-': {name!r}")
    return f"{SNAPSHOT_PREFIX}{name}.json"


def pin(store: ObjectStore, name: str) -> Snapshot:
    """Pin the manifest's current version as `name`; pinning a name again is a no-op if the
    version has not changed, and refused if it has."""
    key = snapshot_key(name)
    manifest = Manifest.of(store)
    version = manifest.version()
    if version is None:
        raise SnapshotError("the manifest has no version to pin yet")
    existing = find(store, name)
    if existing is not None:
        if existing.version != version:
            raise SnapshotError(f"{name!r} already pins version {existing.version}")
        return existing
    snapshot = Snapshot(name, version, manifest.rows(version, ["image_id"]).num_rows,
                        datetime.now(UTC).isoformat(timespec="seconds"))
    store.put_bytes(key, json.dumps(asdict(snapshot), indent=2).encode())
    return snapshot


def snapshots(store: ObjectStore) -> list[Snapshot]:
    """Every snapshot of the dataset, oldest version first."""
    found = [Snapshot(**json.loads(store.get_bytes(key)))
             for key in store.list_keys(SNAPSHOT_PREFIX)]
    return sorted(found, key=lambda snapshot: (snapshot.version, snapshot.name))


def find(store: ObjectStore, name: str) -> Snapshot | None:
    key = snapshot_key(name)
    if key not in store.list_keys(SNAPSHOT_PREFIX):
        return None
    return Snapshot(**json.loads(store.get_bytes(key)))


def resolve(store: ObjectStore, name: str) -> int:
    """The version a snapshot name pins."""
    snapshot = find(store, name)
    if snapshot is None:
        raise SnapshotError(f"no snapshot named {name!r}")
    return snapshot.version

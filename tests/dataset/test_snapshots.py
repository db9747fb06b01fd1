"""A named snapshot reads the same rows and byte-identical samples later, whatever streaming,
compaction and cleanup did meanwhile; its name never moves to another version."""

from __future__ import annotations

import pytest

from dataset import DatasetReader
from dataset.__main__ import compact, main
from dataset.snapshots import SnapshotError, pin, snapshots

MB = 1024 * 1024


def contents(reader: DatasetReader):
    rows = reader.manifest(status=None).drop(columns="thumbnail")
    samples = sorted((meta["image_id"], meta["variant"], tensor.tobytes())
                     for tensor, _, meta in reader.samples())
    return rows, samples


def test_a_snapshot_reads_the_same_after_more_streaming_compaction_and_cleanup(stream):
    store = stream.store
    stream.write(1, 2, 1)
    pin(store, "week-47")
    rows, samples = contents(DatasetReader(store))
    pinned_shards = set(store.list_keys("shards/stream/"))

    stream.write(2, 1, 3)
    list(compact(store, 2 * MB, retention_hours=0))
    stream.write(1)
    list(compact(store, 2 * MB, retention_hours=0))

    later_rows, later_samples = contents(DatasetReader.open(store.url(""), store_s3(store),
                                                            snapshot="week-47"))
    assert later_rows.equals(rows) and later_samples == samples
    current = DatasetReader(store).manifest()
    assert len(current) == 11
    # The snapshot's shards stay; the other superseded ones are gone; the newest is not merged.
    assert set(store.list_keys("shards/stream/")) == pinned_shards | set(
        current["shard_key"][current["shard_key"].str.startswith("shards/stream/")])


def store_s3(store):
    return getattr(store, "s3", None)


def test_snapshots_are_listed_with_their_versions_and_row_counts(stream, capsys):
    store = stream.store
    stream.write(2)
    main(["snapshot", store.url(""), "first"])
    stream.write(1, 1)
    main(["snapshot", store.url(""), "second"])

    main(["snapshots", store.url("")])

    listed = [line.split("\t")[:3] for line in capsys.readouterr().out.splitlines()[2:]]
    assert listed == [["first", "version 0", "2 rows"], ["second", "version 2", "4 rows"]]
    assert [(s.name, s.version, s.rows) for s in snapshots(store)] == [("first", 0, 2),
                                                                       ("second", 2, 4)]


def test_a_name_is_pinned_once_and_never_moves(stream):
    store = stream.store
    stream.write(1)
    first = pin(store, "v1")

    assert pin(store, "v1") == first  # the same version again: nothing changes
    stream.write(1)
    with pytest.raises(SnapshotError, match="already pins version 0"):
        pin(store, "v1")
    with pytest.raises(SnapshotError, match="letters, digits"):
        pin(store, "../elsewhere")
    with pytest.raises(SnapshotError, match="no snapshot named"):
        DatasetReader.open(store.url(""), store_s3(store), snapshot="v2")

"""Compaction merges the stream's small shards into few, moves their rows in one commit, and
leaves every sample byte-identical; cleanup deletes what it superseded once nothing needs it."""

from __future__ import annotations

import io
import tarfile

from dataset import DatasetReader
from dataset.__main__ import compact, main
from dataset.cleanup import clean_up
from dataset.compaction import commit_moves, compact_shards, compact_table, plan_bins
from dataset.manifest import Manifest

MB = 1024 * 1024
TARGET = 2 * MB  # a photo's two tensors make ~0.3 MB: groups of 1-3 are well under half


def samples_by_key(store, version=None) -> dict[str, bytes]:
    """Every sample of a version, by image id and variant: the tensor's bytes and meta."""
    return {
        f"{meta['image_id']}_{meta['variant']}": (tensor.tobytes(), meta)
        for tensor, _, meta in DatasetReader(store, version).samples()
    }


def rows_of(store, version=None):
    return DatasetReader(store, version).manifest().drop(columns="shard_key")


def test_bins_take_shards_under_half_the_target_in_key_order_up_to_the_target():
    sizes = {"a": 4, "b": 3, "c": 9, "d": 2, "e": 1, "f": 3, "g": 4}

    assert plan_bins(sizes, 10) == [["a", "b", "d", "e"], ["f", "g"]]
    assert plan_bins({"a": 4, "c": 9}, 10) == []  # a lone small shard gains nothing


def test_small_shards_merge_into_a_brace_pattern_with_the_same_rows_and_identical_samples(
    stream,
):
    store = stream.store
    ids = stream.write(1, 3, 2, 1, 2, 3, 1, 1)  # bins of 6, 6 and 2 photos
    before, rows_before = samples_by_key(store), rows_of(store)

    compacted = compact_shards(store, TARGET)
    run = compacted.run

    assert compacted.moved == len(ids) == 14
    assert (len(run.superseded), len(run.written)) == (8, 3)
    assert run.brace_pattern == f"shards/compact/{run.run}-{{000000..000002}}.tar"
    keys = set(DatasetReader(store).manifest()["shard_key"])
    assert keys == set(run.written) and all(key.startswith("shards/compact/v") for key in keys)
    assert all(size <= TARGET for size in store.sizes("shards/compact/").values())
    assert samples_by_key(store) == before
    assert rows_of(store).equals(rows_before)


def test_merged_shards_are_plain_tars_holding_each_image_once(stream):
    store = stream.store
    ids = stream.write(2, 2, 2)
    run = compact_shards(store, TARGET).run
    with tarfile.open(fileobj=io.BytesIO(store.get_bytes(run.written[0]))) as tar:
        names = tar.getnames()

    assert len(names) == len(set(names)) == len(ids) * 2 * 2  # two tensors, each .npy + .json


def test_a_row_that_changed_since_the_run_began_keeps_its_new_shard(stream):
    store = stream.store
    [first, second] = stream.write(2)
    manifest = Manifest.of(store)
    old = manifest.rows(columns=["shard_key"]).column("shard_key")[0].as_py()

    moved = commit_moves(manifest, [
        (first, old, "shards/compact/x.tar"),
        (second, "shards/stream/elsewhere.tar", "shards/compact/x.tar"),
    ])

    shards = dict(DatasetReader(store).manifest()[["image_id", "shard_key"]].values)
    assert moved == 1
    assert shards == {first: "shards/compact/x.tar", second: old}


def test_the_table_files_are_compacted_and_old_versions_still_load(stream):
    store = stream.store
    stream.write(1, 1, 1, 1)
    manifest = Manifest.of(store)

    metrics = compact_table(manifest, TARGET)

    assert metrics["numFilesRemoved"] == 4 and metrics["numFilesAdded"] == 1
    assert len(manifest.table().file_uris()) == 1
    assert manifest.table().metadata().configuration["delta.enableExpiredLogCleanup"] == "false"
    assert len(rows_of(store, version=0)) == 1


def test_cleanup_deletes_superseded_shards_but_never_one_no_commit_named(stream):
    store = stream.store
    stream.write(1, 2, 1)
    old = set(store.list_keys("shards/stream/"))
    run = compact_shards(store, TARGET).run
    store.put_bytes("shards/stream/t-p0-o999999999999.tar", b"written, not yet committed")

    kept = clean_up(store, retention_hours=1)
    assert kept.deleted_shards == []
    cleanup = clean_up(store, retention_hours=0)

    assert set(cleanup.deleted_shards) == old == set(run.superseded)
    assert store.list_keys("shards/stream/") == ["shards/stream/t-p0-o999999999999.tar"]
    assert len(list(DatasetReader(store).samples())) == 8


def test_compact_runs_again_over_a_stream_that_kept_writing(stream, capsys):
    store = stream.store
    first = stream.write(1, 2, 3)
    lines = list(compact(store, TARGET, retention_hours=0))
    second = stream.write(2, 1)

    main(["compact", store.url(""), "--target-mb", "2", "--retention-hours", "0"])

    printed = capsys.readouterr().out
    assert lines[0].startswith("shards: 3 merged into shards/compact/v")
    assert "shards: 2 merged" in printed or "shards: 3 merged" in printed
    rows = DatasetReader(store).manifest()
    assert sorted(rows["image_id"]) == sorted(first + second)
    assert rows["shard_key"].str.startswith("shards/compact/").all()
    assert store.list_keys("shards/stream/") == []
    assert len(list(DatasetReader(store).samples())) == 2 * len(rows)

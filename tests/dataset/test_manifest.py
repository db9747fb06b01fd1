"""The manifest: a Delta Lake table of image records, committed once per batch, read anywhere."""

from __future__ import annotations

import io
import threading
import uuid

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from deltalake import write_deltalake
from PIL import Image
from pyarrow.fs import FileType, PyFileSystem

from adapters.object_store import LocalStore, open_store
from adapters.s3 import make_s3_client
from dataset.image_record import FIELD_NAMES
from dataset.manifest import SCHEMA, Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.records import manifest_row
from infra.schemas import remove_bucket
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload

FRACTIONS = (0.8, 0.1, 0.1)


def row_of(data: bytes, label: str = "maize") -> dict:
    outcome = process_upload(Upload(data, "test", label), n_variants=1, max_pixels=10**8)
    return manifest_row(outcome, f"raw/{outcome.image_id}.jpg", "shards/test/t.tar")


def photo(seed: int) -> bytes:
    return encode(photo_like(320, 240, seed=seed), "jpeg", quality=92)


def reencoded(data: bytes, quality: int = 70) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture
def s3_root(s3_stack):
    bucket = f"manifest-{uuid.uuid4().hex[:8]}"
    s3 = make_s3_client(s3_stack.s3)
    s3.create_bucket(Bucket=bucket)
    yield open_store(f"s3://{bucket}/dataset", s3_stack.s3)
    remove_bucket(s3, bucket)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    return LocalStore(tmp_path) if request.param == "local" else request.getfixturevalue("s3_root")


def test_the_table_schema_is_the_image_record():
    assert SCHEMA.names == list(FIELD_NAMES)


def test_a_manifest_before_its_first_commit_is_empty(store):
    manifest = Manifest.of(store)
    assert manifest.version() is None
    assert manifest.rows().num_rows == 0 and manifest.rows().schema == SCHEMA


def test_rows_commit_with_their_group_and_split_and_a_rerun_replaces_them(store):
    writer = ManifestWriter(Manifest.of(store), FRACTIONS)
    rows = [row_of(photo(seed)) for seed in range(3)]
    placed = writer.commit(rows)
    assert all(row["duplicate_group"] == row["image_id"] for row in placed)
    assert all(row["split"] in {"train", "val", "test"} for row in placed)

    relabelled = [{**row, "label": "wheat"} for row in rows]
    ManifestWriter(Manifest.of(store), FRACTIONS).commit(relabelled)  # a new run, a new writer

    table = Manifest.of(store).rows().to_pylist()
    assert sorted(row["image_id"] for row in table) == sorted(row["image_id"] for row in rows)
    assert {row["label"] for row in table} == {"wheat"}
    assert {row["image_id"]: row["split"] for row in table} == {
        row["image_id"]: row["split"] for row in placed}


def test_the_table_is_read_through_a_filesystem_of_arrows_own(store):
    """Not a Python one, whose buffers Arrow's threads free after a read: one freed as the
    interpreter exits aborts the process (dataset/delta_tables.py)."""
    manifest = Manifest.of(store)
    ManifestWriter(manifest, FRACTIONS).commit([row_of(photo(0))])
    files = manifest.files()
    assert not isinstance(files.base_fs, PyFileSystem)
    paths = manifest.table().to_pyarrow_dataset(filesystem=files).files
    assert paths and all(info.type == FileType.File for info in files.get_file_info(paths))


def test_a_rejected_photo_committed_again_keeps_one_row(store):
    rejected = row_of(b"not a photo")
    ManifestWriter(Manifest.of(store), FRACTIONS).commit([rejected])
    ManifestWriter(Manifest.of(store), FRACTIONS).commit([rejected])  # a new run, a new writer

    assert Manifest.of(store).rows(columns=["image_id"]).num_rows == 1


def test_a_near_copy_joins_the_group_and_split_of_its_original(store):
    writer = ManifestWriter(Manifest.of(store), FRACTIONS)
    original = photo(7)
    [first] = writer.commit([row_of(original)])
    later = ManifestWriter(Manifest.of(store), FRACTIONS)  # knows the first only from the table
    [copy] = later.commit([row_of(reencoded(original))])
    assert copy["image_id"] != first["image_id"]
    assert (copy["duplicate_group"], copy["split"]) == (first["duplicate_group"], first["split"])


def test_a_batch_its_app_committed_already_is_placed_but_not_committed_again(store):
    manifest = Manifest.of(store)
    writer = ManifestWriter(manifest, FRACTIONS)
    rows = [row_of(photo(seed)) for seed in range(2)]
    first = writer.commit(rows, app_id="query-1", batch_id=0)
    version = manifest.version()

    replayed = ManifestWriter(Manifest.of(store), FRACTIONS).commit(
        rows, app_id="query-1", batch_id=0)

    assert manifest.version() == version and manifest.committed("query-1") == 0
    assert replayed == first
    assert Manifest.of(store).rows().num_rows == 2


def test_concurrent_writers_lose_no_commit(s3_root):
    rows = [row_of(photo(seed)) for seed in range(8)]
    ManifestWriter(Manifest.of(s3_root), FRACTIONS).commit(rows[:1])  # the table exists

    def commit(part):
        ManifestWriter(Manifest.of(s3_root), FRACTIONS).commit(part)

    threads = [threading.Thread(target=commit, args=([rows[i], rows[i + 4]],))
               for i in range(1, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = Manifest.of(s3_root).rows(columns=["image_id"]).column("image_id").to_pylist()
    expected = [rows[0]] + [rows[i + k] for i in range(1, 4) for k in (0, 4)]
    assert sorted(written) == sorted(row["image_id"] for row in expected)


def test_duckdb_and_polars_read_the_table(store):
    rows = ManifestWriter(Manifest.of(store), FRACTIONS).commit(
        [row_of(photo(1), "maize"), row_of(photo(2), "maize"), row_of(photo(3), "wheat")])
    manifest = Manifest.of(store)

    records = manifest.table().to_pyarrow_dataset()  # noqa: F841 (DuckDB finds it by name)
    counts = duckdb.sql("SELECT label, count(*) AS n FROM records GROUP BY label ORDER BY label")
    assert counts.fetchall() == [("maize", 2), ("wheat", 1)]

    frame = pl.read_delta(manifest.uri, storage_options=manifest.storage_options)
    assert sorted(frame["image_id"].to_list()) == sorted(row["image_id"] for row in rows)
    assert frame.filter(pl.col("label") == "wheat")["phash"].to_list() == [rows[2]["phash"]]


@pytest.mark.parametrize("replacing", [False, True], ids=["append", "replace"])
def test_a_manifest_from_before_a_field_was_added_takes_its_column_at_the_next_commit(
    tmp_path, replacing
):
    """A dataset written by an older version (here without captured_at_local) still takes
    commits: the new column is added, null in the older rows."""
    manifest = Manifest.of(LocalStore(tmp_path / "dataset"))
    old, new = row_of(photo(40)), {**row_of(photo(41)), "captured_at_local": "2024-06-01T12:30:00"}
    older = SCHEMA.remove(SCHEMA.get_field_index("captured_at_local"))
    del old["captured_at_local"]
    write_deltalake(manifest.uri, pa.Table.from_pylist([old], schema=older))

    manifest.commit([new], replace_ids={new["image_id"]} if replacing else set())

    rows = {row["image_id"]: row for row in manifest.rows().to_pylist()}
    assert set(rows) == {old["image_id"], new["image_id"]}
    assert rows[old["image_id"]]["captured_at_local"] is None
    assert rows[new["image_id"]]["captured_at_local"] == "2024-06-01T12:30:00"


def test_set_columns_changes_those_columns_of_those_images_only_even_in_an_older_manifest(
    tmp_path,
):
    manifest = Manifest.of(LocalStore(tmp_path / "dataset"))
    rows = [row_of(photo(50)), row_of(photo(51), "wheat")]
    older = pa.schema([field for field in SCHEMA if not field.name.startswith(("prediction",
                                                                               "model_"))])
    write_deltalake(manifest.uri, pa.Table.from_pylist(
        [{name: row[name] for name in older.names} for row in rows], schema=older))
    first, second = rows[0]["image_id"], rows[1]["image_id"]

    manifest.set_columns(pa.Table.from_pylist([
        {"image_id": first, "prediction": "wheat", "prediction_confidence": 0.75,
         "model_version": "3"},
        {"image_id": "f" * 64, "prediction": "maize", "prediction_confidence": 0.5,
         "model_version": "3"},  # no such image: nothing is added
    ]))

    after = {row["image_id"]: row for row in manifest.rows().to_pylist()}
    assert set(after) == {first, second}
    assert (after[first]["prediction"], after[first]["prediction_confidence"],
            after[first]["model_version"], after[first]["label"]) == ("wheat", 0.75, "3", "maize")
    assert after[second]["prediction"] is None and after[second]["label"] == "wheat"

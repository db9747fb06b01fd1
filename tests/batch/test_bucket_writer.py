"""How the batch job names, labels and filters the files it finds, and reports those it
cannot read."""

import pyarrow as pa

from adapters.object_store import LocalStore
from batch.bucket_writer import BucketWriter, is_photo_path, label_of, relative_source
from batch.job import BatchReport


def test_a_spark_file_uri_becomes_a_path_relative_to_the_input():
    assert relative_source("file:/data/img/maize/a%20b.jpg", "/data/img") == "maize/a b.jpg"


def test_the_label_is_the_parent_folder():
    assert label_of("maize/a.jpg") == "maize"
    assert label_of("farm1/wheat/a.jpg") == "wheat"


def test_top_level_and_hidden_files_are_not_photos():
    assert is_photo_path("maize/a.jpg")
    assert not is_photo_path("README.md")
    assert not is_photo_path("maize/.DS_Store")
    assert not is_photo_path(".cache/maize/a.jpg")


def test_files_that_could_not_be_read_are_reported_not_written(tmp_path):
    (tmp_path / "maize").mkdir()
    (tmp_path / "maize" / "b.jpg").write_bytes(b"hashed, then deleted before it was processed")
    rows = [
        {"path": f"file:{tmp_path}/maize/a.jpg", "image_id": None, "bucket": None},
        {"path": f"file:{tmp_path}/README.md", "image_id": None, "bucket": None},
        {"path": f"file:{tmp_path}/maize/b.jpg", "image_id": "ab" * 32, "bucket": "ab"},
    ]
    (tmp_path / "maize" / "b.jpg").unlink()
    writer = BucketWriter(LocalStore(tmp_path / "out"), str(tmp_path), 1, 10**6, 64)

    out = [row for batch in writer(iter([pa.RecordBatch.from_pylist(rows)])) for row in
           batch.to_pylist()]

    assert [(row["source"], row["status"]) for row in out] == [
        ("maize/a.jpg", "unreadable"), ("README.md", "ignored"), ("maize/b.jpg", "unreadable")
    ]
    assert not list((tmp_path / "out").rglob("*.tar")), "no shard for photos never read"


def test_the_report_counts_the_files_that_could_not_be_read():
    report = BatchReport.from_rows([{"status": "unreadable"}, {"status": "ignored"}])

    assert (report.unreadable, report.ignored) == (1, 1)
    assert "files that could not be read: 1" in report.lines()

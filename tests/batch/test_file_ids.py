"""The batch job's first stage: files named by Spark URIs in, their image ids and buckets out."""

from __future__ import annotations

import hashlib

import pyarrow as pa

from batch.file_ids import ID_SCHEMA, FileIds, local_path


def test_a_spark_file_uri_is_decoded_to_its_local_path():
    assert str(local_path("file:/data/img/maize/a%20b.jpg")) == "/data/img/maize/a b.jpg"


def test_each_file_gets_the_sha256_of_its_bytes_and_the_bucket_of_that_id(tmp_path):
    contents = {"a b.jpg": b"first photo", "c.jpg": b"second photo"}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    uris = [(tmp_path / name).as_uri().replace("file://", "file:") for name in contents]
    listing = pa.RecordBatch.from_pydict({"path": uris})

    (out,) = FileIds(shard_digits=2)(iter([listing]))

    assert out.schema == ID_SCHEMA
    ids = [hashlib.sha256(data).hexdigest() for data in contents.values()]
    assert out.to_pydict() == {"path": uris, "image_id": ids, "bucket": [i[:2] for i in ids]}


def test_a_file_that_cannot_be_read_gets_no_id_and_no_bucket(tmp_path):
    gone = (tmp_path / "gone.jpg").as_uri().replace("file://", "file:")

    (out,) = FileIds(shard_digits=2)(iter([pa.RecordBatch.from_pydict({"path": [gone]})]))

    assert out.to_pydict() == {"path": [gone], "image_id": [None], "bucket": [None]}

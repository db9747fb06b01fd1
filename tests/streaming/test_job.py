"""The streaming job end to end: Kafka photos in, the s3:// dataset and Elasticsearch out."""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from kafka import KafkaConsumer, TopicPartition
from pyspark.errors import StreamingQueryException

from adapters.elasticsearch_client import make_elasticsearch_client
from dataset import DatasetReader
from dataset.layout import rejected_key
from dataset.manifest import Manifest
from kit.field_messages import (
    BBOX,
    FIELD,
    bad_message,
    documents,
    manifest_rows_written,
    photo_messages,
    produce,
)
from streaming.sink import group_name, query_id
from tests.streaming.job_runs import run_job, store_of


def read_message(settings, topic: str, partition: int, offset: int) -> bytes:
    """The value of one record, as the broker keeps it."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None,
                             enable_auto_commit=False)
    tp = TopicPartition(topic, partition)
    try:
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for record in consumer.poll(timeout_ms=1000).get(tp, []):
                if record.offset == offset:
                    return record.value
    finally:
        consumer.close()
    raise AssertionError(f"no record at {topic}/{partition}/{offset}")


@pytest.fixture(scope="module")
def first_run(spark, module_stream_settings):
    """Nine photos (every other one with EXIF GPS) and a text file, in batches of 4 messages."""
    settings = module_stream_settings
    photos, bad = photo_messages(9), bad_message(partition=1)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, [*photos, bad])
    batch_rows = run_job(spark, settings, max_offsets_per_trigger=4)
    return settings, photos, bad, batch_rows


def test_every_photo_is_in_the_dataset_once_with_its_label_device_and_kafka_source(first_run):
    settings, photos, _, _ = first_run
    rows = DatasetReader(store_of(settings)).manifest().set_index("image_id")

    assert sorted(rows.index) == sorted(photo.image_id for photo in photos)
    for photo in photos:
        row = rows.loc[photo.image_id]
        headers = {name: value.decode() for name, value in photo.headers}
        assert (row.label, row.device_id) == (headers["label"], headers["device_id"])
        assert row.source.startswith(f"kafka:{settings.kafka_topic}/{photo.partition}/")
    written = [row["image_id"] for row in manifest_rows_written(store_of(settings))]
    assert len(written) == len(set(written)) == len(photos) + 1


def test_gps_from_exif_reaches_the_manifest_and_photos_without_it_have_none(first_run):
    settings, photos, _, _ = first_run
    reader = DatasetReader(store_of(settings))

    with_gps = reader.manifest(has_gps=True)
    expected = {photo.image_id for photo in photos if photo.gps}

    assert set(with_gps["image_id"]) == expected
    assert set(reader.manifest(bbox=BBOX)["image_id"]) == expected
    assert (with_gps["gps_source"] == "exif").all()
    assert with_gps["lat"].sub(FIELD[0]).abs().max() < 0.01
    assert (reader.manifest(has_gps=False)["gps_source"] == "none").all()


def test_the_text_file_is_dead_lettered_in_the_manifest_rejected_and_elasticsearch(first_run):
    settings, photos, bad, _ = first_run
    store = store_of(settings)

    row = DatasetReader(store).manifest(status="rejected").set_index("image_id").loc[bad.image_id]
    dead_letter = json.loads(store.get_bytes(rejected_key(bad.image_id)))
    document = documents(settings)[bad.image_id]

    assert row.reason == "unsupported_format"
    assert row.label == "wheat"
    assert store.get_bytes(row.raw_key) == bad.value
    assert dead_letter["reason"] == "unsupported_format"
    assert dead_letter["source"] == row.source
    assert (document["status"], document["reason"]) == ("rejected", "unsupported_format")


def test_elasticsearch_has_one_document_per_image_and_a_bounding_box_finds_the_gps_ones(
    first_run,
):
    settings, photos, bad, _ = first_run
    docs = documents(settings)
    search = make_elasticsearch_client(settings.elasticsearch_url)
    min_lon, min_lat, max_lon, max_lat = BBOX
    in_box = search.search(
        index=settings.elasticsearch_index,
        size=100,
        query={"geo_bounding_box": {"location": {"top_left": {"lat": max_lat, "lon": min_lon},
                                                 "bottom_right": {"lat": min_lat,
                                                                  "lon": max_lon}}}},
    )["hits"]["hits"]

    assert set(docs) == {photo.image_id for photo in photos} | {bad.image_id}
    assert {hit["_id"] for hit in in_box} == {photo.image_id for photo in photos if photo.gps}
    ok = [doc for doc in docs.values() if doc["status"] == "processed"]
    assert all(doc["thumbnail"] and doc["processed_at"] for doc in ok)


def test_micro_batches_honour_max_offsets_and_each_kafka_range_is_one_shard(first_run):
    settings, photos, _, batch_rows = first_run
    store = store_of(settings)

    assert [rows for rows in batch_rows if rows] == [4, 4, 2]
    for shard, rows in itertools.groupby(
        sorted(manifest_rows_written(store), key=lambda row: row["shard_key"] or ""),
        key=lambda row: row["shard_key"],
    ):
        if shard is None:
            continue
        sources = [row["source"] for row in rows]
        offsets = [int(source.rsplit("/", 1)[1]) for source in sources]
        partitions = {int(source.split("/")[1]) for source in sources}
        assert len(partitions) == 1
        name = group_name(settings.kafka_topic, partitions.pop(), min(offsets))
        assert shard == f"shards/stream/{name}.tar"
    samples = list(DatasetReader(store).samples(variants=("base",)))
    assert len(samples) == len(photos)
    assert all(tensor.shape == (224, 224, 3) for tensor, _, _ in samples)


def test_a_restart_processes_only_the_new_messages_and_every_photo_stays_exactly_once(
    spark, stream_settings
):
    settings = stream_settings
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photo_messages(4))
    run_job(spark, settings)
    before = documents(settings)

    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photo_messages(3, first=4))
    second_run = run_job(spark, settings)

    after = documents(settings)
    written = [row["image_id"] for row in manifest_rows_written(store_of(settings))]
    assert sum(second_run) == 3
    assert len(after) == 7
    assert all(after[image_id]["processed_at"] == doc["processed_at"]
               for image_id, doc in before.items())
    assert sorted(written) == sorted(set(written)) and len(written) == 7


def test_a_replayed_batch_rewrites_the_same_objects_and_documents_without_duplicates(
    spark, stream_settings
):
    settings = stream_settings
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photo_messages(6))
    assert sum(run_job(spark, settings, max_offsets_per_trigger=3)) == 6
    keys_before = store_of(settings).list_keys("")
    commits = Path(settings.checkpoint_dir) / "commits"
    last = max(int(path.name) for path in commits.iterdir() if path.name.isdigit())
    (commits / str(last)).unlink()
    (commits / f".{last}.crc").unlink(missing_ok=True)  # Hadoop's checksum of that file

    replayed = run_job(spark, settings, max_offsets_per_trigger=3)

    written = [row["image_id"] for row in manifest_rows_written(store_of(settings))]
    assert sum(replayed) == 3
    assert store_of(settings).list_keys("") == keys_before
    assert len(written) == len(set(written)) == 6
    assert len(DatasetReader(store_of(settings)).manifest()) == 6
    assert len(documents(settings)) == 6
    manifest = Manifest.of(store_of(settings))
    assert manifest.committed(query_id(settings.checkpoint_dir)) == last  # found, not redone


def test_an_elasticsearch_failure_fails_the_batch_and_the_restart_indexes_it(
    spark, stream_settings
):
    settings = stream_settings
    search = make_elasticsearch_client(settings.elasticsearch_url)
    search.indices.create(index=settings.elasticsearch_index,
                          settings={"index.blocks.write": True})
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photo_messages(3))

    with pytest.raises(StreamingQueryException):
        run_job(spark, settings)
    assert not (Path(settings.checkpoint_dir) / "commits" / "0").exists()

    search.indices.put_settings(index=settings.elasticsearch_index,
                                settings={"index.blocks.write": False})
    assert sum(run_job(spark, settings)) == 3
    assert len(documents(settings)) == 3


def test_a_photo_sent_again_is_written_and_indexed_once(spark, stream_settings):
    settings = stream_settings
    photos = [replace(photo, key=photo.image_id.encode()) for photo in photo_messages(3)]
    retried_at_once = photos[0]  # the same partition, so the same range, a later offset
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, [*photos, retried_at_once])
    run_job(spark, settings, max_offsets_per_trigger=10)
    first_documents = documents(settings)

    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)  # retried later
    assert sum(run_job(spark, settings, max_offsets_per_trigger=10)) == 3

    written = [row["image_id"] for row in manifest_rows_written(store_of(settings))]
    assert sorted(written) == sorted(photo.image_id for photo in photos)
    base_samples = list(DatasetReader(store_of(settings)).samples(variants=("base",)))
    assert len(base_samples) == 3
    assert documents(settings) == first_documents


def test_a_lost_index_changes_nothing_that_enters_the_dataset(spark, stream_settings, caplog):
    settings = stream_settings
    photos = [replace(photo, key=photo.image_id.encode()) for photo in photo_messages(4)]
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)
    run_job(spark, settings, max_offsets_per_trigger=2)
    store = store_of(settings)
    sources = {row["image_id"]: row["source"] for row in manifest_rows_written(store)}
    shards = set(store.list_keys("shards/"))
    make_elasticsearch_client(settings.elasticsearch_url).indices.delete(
        index=settings.elasticsearch_index)
    commits = Path(settings.checkpoint_dir) / "commits"
    last = max(int(path.name) for path in commits.iterdir() if path.name.isdigit())
    (commits / str(last)).unlink()  # the last batch is replayed, the same messages again
    (commits / f".{last}.crc").unlink(missing_ok=True)
    [new] = photo_messages(1, first=4)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, [*photos, new])  # sent again

    with caplog.at_level(logging.INFO, logger="streaming.sink"):
        run_job(spark, settings, max_offsets_per_trigger=10)

    rows = manifest_rows_written(store)
    assert sorted(row["image_id"] for row in rows) == sorted({*sources, new.image_id})
    assert {row["image_id"]: row["source"] for row in rows if row["image_id"] in sources} == sources
    copies = [line.split(": duplicate ")[1] for line in caplog.messages if ": duplicate " in line]
    assert sorted(copy.split()[0] for copy in copies) == sorted(sources)  # each copy, once
    assert all(f"recorded from {sources[copy.split()[0]]} already" in copy for copy in copies)
    assert len(set(store.list_keys("shards/")) - shards) == 1  # the new photo's range alone
    indexed = documents(settings)  # the replayed batch's photos and the new one
    assert new.image_id in indexed
    assert all(doc["source"] == sources[image_id] for image_id, doc in indexed.items()
               if image_id != new.image_id)


def test_without_raw_copies_a_photos_bytes_stay_only_in_the_broker_at_its_source(
    spark, stream_settings
):
    settings = replace(stream_settings, stream_raw_copies=False)
    photos, bad = photo_messages(2), bad_message(partition=0)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, [*photos, bad])
    run_job(spark, settings)

    store = store_of(settings)
    rows = DatasetReader(store).manifest(status=None).set_index("image_id")
    assert all(pd.isna(rows.loc[photo.image_id].raw_key) for photo in photos)
    assert store.list_keys("raw/") == [rows.loc[bad.image_id].raw_key]  # a dead letter's copy
    for photo in photos:
        topic, partition, offset = rows.loc[photo.image_id].source.removeprefix("kafka:").split("/")
        assert read_message(settings, topic, int(partition), int(offset)) == photo.value

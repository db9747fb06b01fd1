"""Compaction and cleanup, run again and again while the stream commits: nothing lost, nothing
doubled, every shard a row names still there, every sample readable."""

from __future__ import annotations

import threading

from dataset import DatasetReader
from dataset.__main__ import compact
from dataset.compaction import runs
from kit.field_messages import manifest_rows_written, photo_messages, produce
from tests.streaming.job_runs import run_job, store_of

MB = 1024 * 1024


def test_compaction_while_the_stream_processes_a_backlog_keeps_every_photo_once(
    spark, stream_settings
):
    settings = stream_settings
    store = store_of(settings)
    photos = photo_messages(18)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)
    stop, failures, reports = threading.Event(), [], []

    def compact_until_stopped():
        while not stop.is_set():
            try:
                reports.extend(compact(store_of(settings), 2 * MB, retention_hours=0))
            except Exception as error:  # noqa: BLE001 - the test reports it below
                failures.append(error)
            stop.wait(0.5)

    compactor = threading.Thread(target=compact_until_stopped)
    compactor.start()
    try:
        run_job(spark, settings, max_offsets_per_trigger=2)
    finally:
        stop.set()
        compactor.join()

    assert failures == []
    merged_while_streaming = [line for line in reports if " merged into " in line]
    assert merged_while_streaming, reports
    assert len(runs(store)) == len(merged_while_streaming)
    written = [row["image_id"] for row in manifest_rows_written(store)]
    assert sorted(written) == sorted({photo.image_id for photo in photos})
    rows = DatasetReader(store).manifest()
    assert set(rows["shard_key"]) <= set(store.list_keys("shards/"))
    samples = list(DatasetReader(store).samples(variants=["base", "aug0"]))
    assert sorted(meta["image_id"] for _, _, meta in samples) == sorted(
        photo.image_id for photo in photos for _ in range(2))

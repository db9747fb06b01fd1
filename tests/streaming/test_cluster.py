"""The streaming job on the Spark standalone cluster (SPARK_MASTER=spark://...): a worker killed
with SIGKILL during a micro-batch loses and doubles no photo, and the tensors are those that
local mode makes."""

from __future__ import annotations

import os
import signal
from dataclasses import replace

import pytest

from adapters.object_store import open_store
from infra.processes import free_port
from infra.stack import LocalStack
from tests.dataset.tensor_hashes import tensor_hashes
from tests.streaming.conftest import isolated_settings
from tests.streaming.field_messages import (
    documents,
    manifest_rows_written,
    photo_messages,
    produce,
)
from tests.streaming.test_job import run_job
from tests.streaming.test_kill import PER_BATCH, batch_ids, kill, start_job, wait_for

PHOTOS = 24


@pytest.fixture(scope="module")
def drill(spark_cluster, kafka_stack, es_stack, tmp_path_factory):
    """24 photos through the job on the cluster; worker 1 killed while a batch is in flight,
    after a first one was committed. Returns the settings, the photos, the killed worker's
    server and its pid, and the job's log."""
    folder = tmp_path_factory.mktemp("drill")
    with isolated_settings(kafka_stack, folder / "checkpoint") as isolated:
        settings = replace(isolated, spark_master=spark_cluster.spark_master,
                           spark_ui_port=free_port(), stream_metrics_port=free_port())
        photos, log = photo_messages(PHOTOS), folder / "job.log"
        produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)
        checkpoint, ids = settings.checkpoint_dir, {photo.image_id for photo in photos}
        worker = LocalStack(spark_cluster).servers["spark"].workers[0]
        job = start_job(settings, log)
        try:
            wait_for(
                lambda: batch_ids(checkpoint, "commits")
                and batch_ids(checkpoint, "offsets") - batch_ids(checkpoint, "commits"),
                300, "a batch in flight after a committed one", job, log,
            )
            killed = worker.process.pid()
            os.kill(killed, signal.SIGKILL)
            in_flight = batch_ids(checkpoint, "offsets") - batch_ids(checkpoint, "commits")
            store = open_store(settings.dataset_root, settings.s3)
            wait_for(lambda: set(documents(settings)) == ids
                     and in_flight <= batch_ids(checkpoint, "commits")
                     and {row["image_id"] for row in manifest_rows_written(store)} == ids,
                     300, "every photo in the manifest and the index", job, log)
        finally:
            kill(job)
        yield settings, photos, worker, killed, log


def test_a_worker_killed_mid_batch_loses_no_photo_and_doubles_none(drill):
    settings, photos, _, _, log = drill
    store = open_store(settings.dataset_root, settings.s3)
    written = [row["image_id"] for row in manifest_rows_written(store)]
    assert sorted(written) == sorted(photo.image_id for photo in photos), log.read_text()
    assert set(documents(settings)) == {photo.image_id for photo in photos}


def test_the_killed_worker_was_started_again_and_its_executor_replaced(drill):
    _, _, worker, killed, log = drill
    assert worker.process.pid() not in (None, killed)
    assert "Lost executor" in log.read_text()


def test_the_cluster_made_the_tensors_that_local_mode_makes(drill, spark, kafka_stack, es_stack,
                                                           tmp_path):
    settings, photos, _, _, _ = drill
    with isolated_settings(kafka_stack, tmp_path / "checkpoint") as local:
        produce(local.kafka_bootstrap_servers, local.kafka_topic, photos)
        assert sum(run_job(spark, local, max_offsets_per_trigger=PER_BATCH)) == len(photos)
        expected = tensor_hashes(open_store(local.dataset_root, local.s3))
    assert len(expected) >= len(photos)
    assert tensor_hashes(open_store(settings.dataset_root, settings.s3)) == expected

"""The streaming job on the Spark standalone cluster (SPARK_MASTER=spark://...): a worker killed
with SIGKILL during a micro-batch loses and doubles no photo, and the tensors are those that
local mode makes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from adapters.object_store import open_store
from infra.processes import free_port
from infra.spark_cluster import SparkWorker
from infra.stack import LocalStack
from kit.field_messages import (
    Message,
    documents,
    manifest_rows_written,
    photo_messages,
    produce,
)
from kit.launcher import kill
from settings import Settings
from tests.dataset.tensor_hashes import tensor_hashes
from tests.streaming.conftest import isolated_settings
from tests.streaming.job_runs import PER_BATCH, batch_ids, run_job, start_job, wait_for

PHOTOS = 24


@dataclass(frozen=True)
class Drill:
    """What the drill did: the job's settings and photos, the worker it killed (its server
    and pid), the executor that worker ran, the executors running the job at its end."""

    settings: Settings
    photos: list[Message]
    worker: SparkWorker
    killed_pid: int
    lost_executor: str
    executors_after: set[str]
    log: Path


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=20) as response:
        return json.load(response)


def app_api(settings) -> str:
    """The job's REST API (its web UI's), for its one application."""
    api = f"http://127.0.0.1:{settings.spark_ui_port}/api/v1/applications"
    return f"{api}/{get_json(api)[0]['id']}"


def live_executors(settings) -> dict[str, int]:
    """The job's live executors (not the driver) and how many tasks each runs now."""
    return {executor["id"]: executor["activeTasks"]
            for executor in get_json(f"{app_api(settings)}/executors")
            if executor["id"] != "driver"}


def busy_worker(settings, workers: list[SparkWorker]) -> tuple[SparkWorker, str] | None:
    """The worker whose executor runs one of the job's tasks now, and that executor's id (the
    job's UI tells which executor is busy, the workers' UIs whose it is); None while idle."""
    app = app_api(settings).rsplit("/", 1)[1]
    busy = {executor for executor, tasks in live_executors(settings).items() if tasks}
    for worker in workers:
        for executor in get_json(f"{worker.url}/json/")["executors"]:
            if executor["appid"] == app and str(executor["id"]) in busy:
                return worker, str(executor["id"])
    return None


@pytest.fixture(scope="module")
def drill(spark_cluster, kafka_stack, es_stack, tmp_path_factory):
    """24 photos through the job on the cluster; after a first batch was committed, the worker
    whose executor runs one of the next batch's tasks is killed."""
    folder = tmp_path_factory.mktemp("drill")
    with isolated_settings(kafka_stack, folder / "checkpoint") as isolated:
        settings = replace(isolated, spark_master=spark_cluster.spark_master,
                           spark_ui_port=free_port(), stream_metrics_port=free_port())
        photos, log = photo_messages(PHOTOS), folder / "job.log"
        produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)
        checkpoint, ids = settings.checkpoint_dir, {photo.image_id for photo in photos}
        workers = LocalStack(spark_cluster).servers["spark"].workers
        job = start_job(settings, log)
        try:
            wait_for(lambda: batch_ids(checkpoint, "commits"), 300, "a committed batch", job, log)
            busy = None

            def a_task_runs() -> bool:
                nonlocal busy
                with contextlib.suppress(OSError):  # a UI slow to answer on a busy machine
                    busy = busy_worker(settings, workers)
                return busy is not None

            wait_for(a_task_runs, 120, "a task of the next batches", job, log)
            worker, lost_executor = busy
            killed = worker.process.pid()
            os.kill(killed, signal.SIGKILL)
            in_flight = batch_ids(checkpoint, "offsets") - batch_ids(checkpoint, "commits")
            store = open_store(settings.dataset_root, settings.s3)
            wait_for(lambda: set(documents(settings)) == ids
                     and in_flight <= batch_ids(checkpoint, "commits")
                     and {row["image_id"] for row in manifest_rows_written(store)} == ids,
                     300, "every photo in the manifest and the index", job, log)
            wait_for(lambda: len(live_executors(settings)) == 2, 120, "a second executor again",
                     job, log)
            executors = set(live_executors(settings))
        finally:
            kill(job)
        yield Drill(settings, photos, worker, killed, lost_executor, executors, log)


def test_a_worker_killed_mid_batch_loses_no_photo_and_doubles_none(drill):
    settings, photos = drill.settings, drill.photos
    store = open_store(settings.dataset_root, settings.s3)
    written = [row["image_id"] for row in manifest_rows_written(store)]
    assert sorted(written) == sorted(photo.image_id for photo in photos), drill.log.read_text()
    assert set(documents(settings)) == {photo.image_id for photo in photos}


def test_the_killed_worker_was_started_again_and_its_executor_replaced(drill):
    assert drill.worker.process.pid() not in (None, drill.killed_pid)
    assert len(drill.executors_after) == 2 and drill.lost_executor not in drill.executors_after


def test_the_cluster_made_the_tensors_that_local_mode_makes(drill, spark, kafka_stack, es_stack,
                                                           tmp_path):
    settings, photos = drill.settings, drill.photos
    with isolated_settings(kafka_stack, tmp_path / "checkpoint") as local:
        produce(local.kafka_bootstrap_servers, local.kafka_topic, photos)
        assert sum(run_job(spark, local, max_offsets_per_trigger=PER_BATCH)) == len(photos)
        expected = tensor_hashes(open_store(local.dataset_root, local.s3))
    assert len(expected) >= len(photos)
    assert tensor_hashes(open_store(settings.dataset_root, settings.s3)) == expected

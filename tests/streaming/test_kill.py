"""`python -m streaming` killed with SIGKILL mid-run, then restarted: every photo exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from adapters.object_store import open_store
from dataset import DatasetReader
from settings import PROJECT_ROOT
from tests.streaming.field_messages import (
    documents,
    manifest_rows_written,
    photo_messages,
    produce,
)

PHOTOS = 24
PER_BATCH = 4


def start_job(settings, log: Path) -> subprocess.Popen:
    """The job as a deployment runs it, in a process group of its own (driver, JVM, workers)."""
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(PROJECT_ROOT)}
    with open(log, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "streaming", "--max-offsets-per-trigger", str(PER_BATCH)],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )


def kill(job: subprocess.Popen) -> None:
    """SIGKILL the job's whole process group, as a crash or an OOM killer would."""
    if job.poll() is None:
        os.killpg(job.pid, signal.SIGKILL)
    job.wait(timeout=30)


def batch_ids(checkpoint: str, log: str) -> set[int]:
    """The micro-batches in the checkpoint's offsets (planned) or commits (done) log."""
    folder = Path(checkpoint) / log
    return {int(path.name) for path in folder.glob("*") if path.name.isdigit()}


def wait_for(condition, timeout: float, what: str, job: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert job.poll() is None, f"the job exited while waiting for {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s:\n{log.read_text()}"
        time.sleep(0.2)


def test_a_job_killed_mid_batch_and_restarted_writes_every_photo_exactly_once(
    stream_settings, tmp_path
):
    settings, log = stream_settings, tmp_path / "job.log"
    photos = photo_messages(PHOTOS)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)
    checkpoint = settings.checkpoint_dir

    job = start_job(settings, log)
    try:
        wait_for(
            lambda: batch_ids(checkpoint, "commits")
            and batch_ids(checkpoint, "offsets") - batch_ids(checkpoint, "commits"),
            240, "batch in flight after a committed one", job, log,
        )
        kill(job)
    finally:
        kill(job)
    in_flight = batch_ids(checkpoint, "offsets") - batch_ids(checkpoint, "commits")
    assert in_flight and len(batch_ids(checkpoint, "commits")) < PHOTOS // PER_BATCH

    restarted = start_job(settings, log)
    try:
        wait_for(lambda: len(documents(settings)) == PHOTOS and
                 in_flight <= batch_ids(checkpoint, "commits"),
                 300, "every photo indexed", restarted, log)
    finally:
        kill(restarted)

    store = open_store(settings.dataset_root, settings.s3)
    written = [row["image_id"] for row in manifest_rows_written(store)]
    assert sorted(written) == sorted(photo.image_id for photo in photos)
    assert len(DatasetReader(store).manifest()) == PHOTOS
    assert set(documents(settings)) == {photo.image_id for photo in photos}

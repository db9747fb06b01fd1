"""Ways the streaming tests run the job: its query in the test's Spark session until the backlog
is done, or `python -m streaming` as a process to kill and restart."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from adapters.object_store import open_store
from infra.app_services import StreamingJob
from kit.launcher import launch
from streaming.job import start_stream

PER_BATCH = 4  # photos per micro-batch of a job started as a process


def run_job(spark, settings, max_offsets_per_trigger: int = 4, progress=None,
            sink=None) -> list[int]:
    """Run the job's query until the topic's backlog is processed; rows per micro-batch. The
    sink records its model in `progress` (a ProgressRecorder) when given one; `sink`, one kept
    across runs as run_stream keeps it across restarts (a new one by default)."""
    query = start_stream(spark, settings, max_offsets_per_trigger=max_offsets_per_trigger,
                         trigger={"availableNow": True}, progress=progress, sink=sink)
    try:
        query.awaitTermination(300)
        assert not query.isActive, "the job did not finish its backlog in time"
    finally:
        if query.isActive:
            query.stop()  # a query left running would consume the next test's messages
    return [progress["numInputRows"] for progress in query.recentProgress]


def store_of(settings):
    return open_store(settings.dataset_root, settings.s3)


def start_job(settings, log: Path) -> subprocess.Popen:
    """The job as a deployment runs it (infra's StreamingJob, launched by the kit), in a process
    group of its own (driver, JVM, workers): kit.launcher.kill stops it as a crash would."""
    return launch(StreamingJob(settings), log, "--max-offsets-per-trigger", str(PER_BATCH))


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

"""The stream's progress, for `./deploy.sh status`: a small JSON file next to the checkpoint.

The job writes it: after every completed micro-batch (its id, when it finished, its end
offsets, which are where a restart resumes, and the model its photos were predicted with) and
whenever it restarts its query after a failure. Anyone can read it, and `messages_behind`
compares its offsets with the topic's end.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql.streaming import StreamingQueryListener

from settings import Settings
from streaming.kafka_source import Offsets, SourceOptions, high_watermarks

PROGRESS_FILE = "progress.json"


def progress_path(settings: Settings) -> Path:
    """Where the job of these settings keeps its progress: inside its checkpoint directory."""
    return Path(settings.checkpoint_dir) / PROGRESS_FILE


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StreamProgress:
    """The last completed micro-batch and the restarts so far (times in ISO 8601 UTC)."""

    batch_id: int | None = None
    batch_completed_at: str | None = None
    batch_rows: int = 0
    offsets: Offsets = field(default_factory=dict)  # the batch's end: the next to read
    job_starts: int = 0  # `python -m streaming` runs on this checkpoint
    query_restarts: int = 0  # failed queries the job started again itself
    last_failure: str | None = None
    last_failure_at: str | None = None
    # The model the last micro-batch with messages predicted with (None: none), why none or
    # why the registry did not answer, and how many of its processed photos got a prediction.
    model_name: str | None = None
    model_version: str | None = None
    model_problem: str | None = None
    batch_predicted: int = 0
    batch_without_prediction: int = 0

    @classmethod
    def read(cls, path: Path) -> StreamProgress:
        """The recorded progress; an empty one before the job first wrote any."""
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return cls()

    def write(self, path: Path) -> None:
        """Replace the file at once, so a reader never sees half of it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_text(json.dumps(asdict(self), indent=1))
        os.replace(scratch, path)


class ProgressRecorder(StreamingQueryListener):
    """Keeps the progress file of one job up to date; also a listener of its queries."""

    def __init__(self, path: Path):
        self.path = path
        self.batches_completed = 0  # in this process
        self._lock = threading.Lock()  # listener events arrive on a thread of their own

    def update(self, **changes) -> None:
        with self._lock:
            replace(StreamProgress.read(self.path), **changes).write(self.path)

    def job_started(self) -> None:
        self.update(job_starts=StreamProgress.read(self.path).job_starts + 1)

    def query_restarted(self, failure: str) -> None:
        restarts = StreamProgress.read(self.path).query_restarts + 1
        self.update(query_restarts=restarts, last_failure=failure, last_failure_at=now())

    def predictions_made(self, *, name: str | None, version: str | None, problem: str | None,
                         predicted: int, without: int) -> None:
        self.update(model_name=name, model_version=version, model_problem=problem,
                    batch_predicted=predicted, batch_without_prediction=without)

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        if progress.numInputRows == 0:  # a trigger that found nothing new: no batch ran
            return
        self.batches_completed += 1
        self.update(
            batch_id=progress.batchId,
            batch_completed_at=now(),
            batch_rows=progress.numInputRows,
            offsets=json.loads(progress.sources[0].endOffset),
        )

    def onQueryStarted(self, event) -> None:
        """Nothing: a start is recorded by the job, which knows whether it is a restart."""

    def onQueryIdle(self, event) -> None:
        """Nothing: idle triggers complete no batch."""

    def onQueryTerminated(self, event) -> None:
        """Nothing: the job records the failure as it restarts the query."""


def messages_behind(settings: Settings, offsets: Offsets, timeout_s: float = 5.0) -> int:
    """Messages on the topic past `offsets`: the topic's end (high watermarks) minus them."""
    options = SourceOptions.parse({
        "kafka.bootstrap.servers": settings.kafka_bootstrap_servers,
        "subscribe": settings.kafka_topic,
        "kafkaConsumer.pollTimeoutMs": str(int(timeout_s * 1000)),
    }, streaming=True)
    ends = high_watermarks(options, offsets)
    return sum(
        max(0, end - offsets.get(topic, {}).get(partition, 0))
        for topic, partitions in ends.items()
        for partition, end in partitions.items()
    )

"""The pipeline's own services on the native stack: the ingest API and the streaming job.

They run like the servers (under the stack dir's supervisord, log in <stack_dir>/<name>/),
with the Settings passed down as environment variables, so `python -m infra up` brings the
whole pipeline up and `down` stops it.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kafka.errors import KafkaError

from infra.server import Server, ServerStatus
from settings import PROJECT_ROOT
from streaming.progress import StreamProgress, messages_behind, progress_path


class _PipelineService(Server):
    """A `python -m <module>` of this project, run with the venv's interpreter."""

    module: str

    def command(self) -> tuple[list[str], dict[str, str]]:
        env = {
            **self.settings.to_env(),
            "PYTHONPATH": str(PROJECT_ROOT),
            "HOME": os.environ.get("HOME", str(self.home)),
            "JAVA_HOME": os.environ.get("JAVA_HOME", ""),
        }
        return [sys.executable, "-m", self.module], {k: v for k, v in env.items() if v}


class IngestApi(_PipelineService):
    """gunicorn serving the Flask app on the internal port, behind nginx (infra/nginx.py);
    ready once /readyz says Kafka answers."""

    name = "api"
    module = "ingest_api"

    @property
    def url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_internal_port}"

    def is_ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as response:
            return response.status == 200


@dataclass(frozen=True)
class StreamStatus(ServerStatus):
    """The stream's status line, then its last completed batch, lag, restarts and model."""

    progress: StreamProgress = field(default_factory=StreamProgress)
    behind: int | None = None  # messages on the topic past the last completed batch
    behind_unknown: str = ""  # why `behind` could not be measured

    def __str__(self) -> str:
        progress, indent = self.progress, " " * 7
        if progress.batch_id is None:
            batch = "none completed yet"
        else:
            batch = (f"#{progress.batch_id} ({progress.batch_rows} messages) completed "
                     f"{_when(progress.batch_completed_at)}")
        if self.behind is None:
            behind = f"unknown ({self.behind_unknown})"
        else:
            behind = f"{self.behind} messages behind the topic's end"
        restarts = (f"job started {progress.job_starts} time(s); query restarted "
                    f"{progress.query_restarts} time(s) after failures")
        if progress.last_failure:
            restarts += f", last {_when(progress.last_failure_at)}: {progress.last_failure}"
        return "\n".join([super().__str__(), f"{indent}last batch  {batch}",
                          f"{indent}lag         {behind}", f"{indent}restarts    {restarts}",
                          f"{indent}model       {model_line(progress)}"])


def model_line(progress: StreamProgress) -> str:
    """What the stream's last batch predicted with, and how many photos went without."""
    if progress.model_version is None and progress.model_problem is None:
        return "no batch has reached the model yet"
    photos = progress.batch_predicted + progress.batch_without_prediction
    if progress.model_version is None:
        return (f"none, so photos are processed without a prediction: {progress.model_problem}"
                f" ({progress.batch_without_prediction} of the last batch's {photos})")
    line = (f"{progress.model_name} version {progress.model_version}: "
            f"{progress.batch_predicted} of the last batch's {photos} photos predicted")
    if progress.model_problem:  # the registry did not answer: the stream kept its model
        line += f"; kept while the registry does not answer: {progress.model_problem}"
    return line


def _when(iso: str | None) -> str:
    """An ISO 8601 time as `2026-11-23 19:02:29 UTC (35 s ago)`."""
    if not iso:
        return "(never)"
    moment = datetime.fromisoformat(iso)
    ago = round((datetime.now(UTC) - moment).total_seconds())
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({ago} s ago)"


class StreamingJob(_PipelineService):
    """The Spark streaming query; ready once it has written its checkpoint's first offsets."""

    name = "stream"
    module = "streaming"
    start_timeout = 180.0

    @property
    def url(self) -> str:
        return f"checkpoint {self.settings.checkpoint_dir}"

    def answering(self) -> bool:
        """A job has no port: only this stack dir's supervisord tells that it runs."""
        return False

    def is_ready(self) -> bool:
        return (Path(self.settings.checkpoint_dir) / "metadata").exists()

    def status(self) -> StreamStatus:
        """Whether it runs, and from its progress file the last batch, the lag and restarts.

        The lag is measured now, against the topic's end; Kafka gets 5 s to answer.
        """
        base = super().status()
        progress = StreamProgress.read(progress_path(self.settings))
        behind, unknown = None, "the job has never run on this checkpoint"
        if Path(self.settings.checkpoint_dir).exists():
            try:
                behind, unknown = messages_behind(self.settings, progress.offsets), ""
            except (KafkaError, TimeoutError, OSError) as error:
                unknown = f"Kafka did not answer: {error}"
        return StreamStatus(**vars(base), progress=progress, behind=behind,
                            behind_unknown=unknown)

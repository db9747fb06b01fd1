"""The pipeline's own services on the native stack: the ingest API and the streaming job.

They run like the servers (detached, pid file and log in <stack_dir>/<name>/), with the
Settings passed down as environment variables, so `python -m infra up` brings the whole
pipeline up and `down` stops it.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

from infra.server import Server
from settings import PROJECT_ROOT


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


class StreamingJob(_PipelineService):
    """The Spark streaming query; ready once it has written its checkpoint's first offsets."""

    name = "stream"
    module = "streaming"
    start_timeout = 180.0

    @property
    def url(self) -> str:
        return f"checkpoint {self.settings.checkpoint_dir}"

    def answering(self) -> bool:
        """A job has no port: only this stack dir's pid file tells that it runs."""
        return False

    def is_ready(self) -> bool:
        return (Path(self.settings.checkpoint_dir) / "metadata").exists()

"""The API under gunicorn: `python -m ingest_api`, on Settings.api_host:api_internal_port.

gunicorn is not the public front: its gthread workers read each request on a thread of a
small pool, so slow clients would hold those threads. nginx (infra/nginx.py on the native
stack, the `nginx` service in compose) listens on Settings.api_host:api_port, buffers every
request whole and hands it on here.

Its workers count their requests together (ingest_api/ops/metrics.py) in the directory named by
PROMETHEUS_MULTIPROC_DIR, which prometheus_client reads when first imported: without it,
`python -m ingest_api` starts itself again with <stack_dir>/api-metrics. The master empties
that directory at start and tells it when a worker dies.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from ingest_api import create_app
from ingest_api.ops.closing import close_app
from ingest_api.ops.metrics import MULTIPROC_DIR_VARIABLE
from ingest_api.records.image_records import MAX_INDEX_CALLS
from ingest_api.upload.publisher import MAX_KAFKA_CALLS
from settings import Settings

# Settings.api_workers processes (two by default: uploads mostly wait on Kafka's
# acknowledgement). Each process has threads for its Kafka and Elasticsearch slots
# (ingest_api/ops/guard.py) and as many again for everything else, so /is_alive finds a free
# thread whatever Kafka and Elasticsearch are doing.
GUNICORN_OPTIONS = {
    "worker_class": "gthread",
    "threads": 2 * (MAX_KAFKA_CALLS + MAX_INDEX_CALLS),
    "timeout": 30,
    # gunicorn 27 otherwise opens ~/.gunicorn/gunicorn.ctl, which a second server would share.
    "control_socket_disable": True,
}


def gunicorn_config(settings: Settings, metrics_dir: Path) -> dict:
    """gunicorn's whole configuration, from Settings: the one place its options are written.
    docker-compose.yml, the Dockerfile and infra/k8s run `python -m ingest_api`, which uses it."""
    return {
        "bind": f"{settings.api_host}:{settings.api_internal_port}",
        "on_starting": lambda server: empty_dir(metrics_dir),
        "child_exit": lambda server, worker: multiprocess.mark_process_dead(
            worker.pid, str(metrics_dir)
        ),
        # In the worker, as it ends: its app's producer flushes and its clients close.
        "worker_exit": lambda server, worker: close_app(worker.wsgi, "the worker stops"),
        "workers": settings.api_workers,
        **GUNICORN_OPTIONS,
    }


class IngestServer(BaseApplication):
    """gunicorn with its options from gunicorn_config, not from the command line."""

    def __init__(self, settings: Settings, metrics_dir: Path):
        self.settings = settings
        self.options = gunicorn_config(settings, metrics_dir)
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        # Called in each worker after the fork: every worker builds its own app and producer.
        return create_app(self.settings)


def empty_dir(directory: Path) -> None:
    """Start the workers' metric files afresh: those of an earlier run count no more. Only
    prometheus_client's own files (*.db) go, whatever else the directory holds."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def main() -> None:
    settings = Settings.from_env()
    metrics_dir = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if not metrics_dir:
        metrics_dir = str(Path(settings.stack_dir) / "api-metrics")
        env = {**os.environ, MULTIPROC_DIR_VARIABLE: metrics_dir}
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    IngestServer(settings, Path(metrics_dir)).run()

"""`python -m ingest_api`, gunicorn as deployed, for the tests that need the real server: infra's
own starter (infra/app_services.py's IngestApi) launched by the kit (kit/launcher.py).

It listens on Settings.api_internal_port (the port nginx forwards to); these tests talk to it
directly.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from infra.app_services import IngestApi
from ingest_api.ops.metrics import MULTIPROC_DIR_VARIABLE
from kit.api_client import ApiClient
from kit.launcher import running
from settings import Settings

START_TIMEOUT_S = IngestApi.start_timeout


def internal_url(settings: Settings) -> str:
    return IngestApi(settings).url


@contextlib.contextmanager
def serving(settings: Settings, log_path: Path) -> Iterator[subprocess.Popen]:
    """gunicorn with these settings, answering /is_alive (Kafka may be down), until the block
    ends; its workers' metric files go to a `metrics` directory beside the log."""
    api = ApiClient(internal_url(settings), timeout=2)
    metrics_dir = {MULTIPROC_DIR_VARIABLE: str(log_path.parent / "metrics")}
    with running(IngestApi(settings), log_path, env=metrics_dir,
                 ready=lambda: api.is_alive().status == 200) as server:
        yield server

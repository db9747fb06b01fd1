"""`python -m ingest_api`, gunicorn as deployed, for the tests that need the real server.

It listens on Settings.api_internal_port (the port nginx forwards to); these tests talk to it
directly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from kit.api_client import ApiClient, Unanswered
from settings import PROJECT_ROOT, Settings

START_TIMEOUT_S = 30


def internal_url(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_internal_port}"


@contextlib.contextmanager
def serving(settings: Settings, log_path: Path) -> Iterator[subprocess.Popen]:
    """gunicorn with these settings, answering /is_alive, until the block ends; its workers'
    metric files go to a `metrics` directory beside the log."""
    metrics_dir = log_path.parent / "metrics"
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "ingest_api"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **settings.to_env(), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_alive(internal_url(settings), server, log_path)
        yield server
    finally:
        stop(server)


def wait_until_alive(url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn exited:\n{log_path.read_text()}"
        with contextlib.suppress(Unanswered):
            if ApiClient(url, timeout=2).is_alive().status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer in {START_TIMEOUT_S} s:\n{log_path.read_text()}")


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to the master (a graceful stop), then SIGKILL to whatever of its group is left."""
    server.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=10)

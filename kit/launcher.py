"""One of the project's processes started as a child of a test or benchmark, from infra's own
starter: the server's command, environment and readiness check (infra/server.py), in the clean
environment supervisord gives it.

For the runs that kill a process, restart it, time it or read its log, where supervisord (which
starts a dead process again) would be in the way. Everything else runs under supervisord through
infra.stack.LocalStack, as deploy does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.server import Server, wait_until
from infra.supervisor import BASE_ENV, log_tail
from settings import PROJECT_ROOT

STOP_GRACE_S = 30


def launch(server: Server, log_path: Path, *args: str, env: Mapping[str, str] | None = None,
           cwd: Path = PROJECT_ROOT) -> subprocess.Popen:
    """Start the server's command (with `args` appended, `env` added) in a process group of
    its own, its output appended to `log_path`. It is not waited for: see wait_ready."""
    argv, server_env = server.command()
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [*argv, *args], cwd=cwd, env={**BASE_ENV, **server_env, **(env or {})},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


@dataclass(frozen=True)
class ChildProcess:
    """A launched process as infra.server.wait_until watches a supervised one."""

    popen: subprocess.Popen
    log_file: Path

    def has_exited(self) -> bool:
        return self.popen.poll() is not None

    def log_tail(self) -> str:
        return log_tail(self.log_file)


def wait_ready(server: Server, process: subprocess.Popen, log_path: Path,
               ready: Callable[[], bool] | None = None) -> None:
    """Wait as infra waits for a server it started (infra.server.wait_until): its readiness
    check (or `ready`) until true; NotReady, with the log's tail, if the process exits first
    or the server's start timeout runs out."""
    wait_until(ready or server.is_ready, server.start_timeout, server.name,
               ChildProcess(process, log_path), starting=True)


@contextlib.contextmanager
def running(server: Server, log_path: Path, *args: str, env: Mapping[str, str] | None = None,
            ready: Callable[[], bool] | None = None) -> Iterator[subprocess.Popen]:
    """The server launched and ready for the block, stopped (stop) at its end."""
    process = launch(server, log_path, *args, env=env)
    try:
        wait_ready(server, process, log_path, ready)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (a graceful stop), then SIGKILL to whatever of its process group is left."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)
    kill(process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the whole process group, as a crash or the OOM killer would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

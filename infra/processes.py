"""Detached server processes recorded in pid files: spawn, find, wait for, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# Servers get a clean environment, so nothing from the caller's shell changes how they run.
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


class NotReady(RuntimeError):
    """A server did not answer in time, or exited while starting."""


class ManagedProcess:
    """One server process, its pid file and its log, all in one folder.

    The pid file also holds the process's start time, so a pid reused by an unrelated
    process after a reboot is not mistaken for the server.
    """

    def __init__(self, name: str, folder: Path):
        self.name = name
        self.pid_file = folder / f"{name}.pid"
        self.log_file = folder / f"{name}.log"

    def pid(self) -> int | None:
        """The recorded pid if that very process is still alive, else None."""
        try:
            pid, started = (int(field) for field in self.pid_file.read_text().split())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _start_time(pid) == started else None

    def spawn(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> int:
        """Start `argv` in its own session (it outlives the caller), log to log_file, record it."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                list(argv),
                env={**BASE_ENV, **env},
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{process.pid} {_start_time(process.pid)}\n")
        return process.pid

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM the recorded process, SIGKILL it after `timeout` s; True if it was running."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not _poll(lambda: self.pid() is None, timeout):
                os.kill(pid, signal.SIGKILL)
                _poll(lambda: self.pid() is None, 10.0)
        self.pid_file.unlink(missing_ok=True)
        return pid is not None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the log, for error messages."""
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return f"(no log at {self.log_file})"
        return "\n".join(text.splitlines()[-lines:])


def wait_until(
    ready: Callable[[], bool], timeout: float, name: str, process: ManagedProcess | None
) -> None:
    """Poll `ready` until it returns true; raise NotReady, with the server log's tail, if not.

    `process` is the server's own process when this stack started it: its exit ends the wait.
    """
    deadline = time.monotonic() + timeout
    problem = "no answer"
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except Exception as error:  # any failure of the probe just means "not yet"
            problem = f"{type(error).__name__}: {error}"
        if process is not None and process.pid() is None:
            problem = "the process exited"
            break
        time.sleep(0.5)
    message = f"{name} is not ready ({problem})"
    if process is not None:
        message += f"\n--- last lines of {process.log_file} ---\n{process.log_tail()}"
    raise NotReady(message)


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _start_time(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a live process, None if it is gone."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our exited child, so it is not a zombie
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, *fields = stat.rsplit(")", 1)[1].split()
    return None if state == "Z" else int(fields[18])


def _poll(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True

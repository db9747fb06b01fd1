"""What every local server shares: start unless running, wait until ready, stop, report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from infra.private import private_dir
from infra.processes import NotReady, port_open
from infra.supervisor import RESTARTING, ProgramState, SupervisedProcess, Supervisor
from settings import Settings


@dataclass(frozen=True)
class ServerStatus:
    """One line of `python -m infra status`; pid is None for a server this stack did not start.

    `supervisor` is the supervisord's account when this stack dir runs the server.
    """

    name: str
    running: bool
    pid: int | None
    url: str
    supervisor: ProgramState | None = None

    @property
    def state(self) -> str:
        program = self.supervisor
        if program is None:
            return "running (not started from this stack dir)" if self.running else "stopped"
        if program.pid is not None:
            return f"running (pid {program.pid}, up {timedelta(seconds=program.uptime_s)})"
        if program.state in RESTARTING:
            return f"restarting ({program.message or 'exited'})"
        if program.state == "FATAL":
            return f"failed, no more restarts ({program.message})"
        return program.state.lower()

    def __str__(self) -> str:
        width = 44 - max(0, len(self.name) - 6)  # a longer name keeps the urls in line
        return f"{self.name:<6} {self.state:<{width}} {self.url}"


class WatchedProcess(Protocol):
    """A server's process as wait_until watches it: whether it exited, and its log."""

    log_file: Path

    def has_exited(self) -> bool: ...

    def log_tail(self) -> str: ...


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    name: str,
    process: WatchedProcess | None,
    *,
    starting: bool = False,
) -> None:
    """Poll `ready` until it returns true; raise NotReady, with the server log's tail, if not.

    `process` is the server's own process when this stack runs it (or a test launched it:
    kit/launcher.py); if `starting` (this call started it), its first exit ends the wait
    instead of waiting for supervisord's retries.
    """
    deadline = time.monotonic() + timeout
    problem = "no answer"
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except Exception as error:  # any failure of the probe just means "not yet"
            problem = f"{type(error).__name__}: {error}"
        if starting and process is not None and process.has_exited():
            problem = "the process exited"
            break
        time.sleep(0.5)
    message = f"{name} is not ready ({problem})"
    if process is not None:
        message += f"\n--- last lines of {process.log_file} ---\n{process.log_tail()}"
    raise NotReady(message)


class Server:
    """A server whose state and log live in <stack_dir>/<name>/ (0700), run by the stack dir's
    supervisord (infra/supervisor.py), which starts it again whenever it dies.

    Subclasses give its name, url, command line and readiness probe. The command must stay in
    the foreground (no daemonizing): its process is the one supervisord watches.
    """

    name: str
    start_timeout = 60.0
    stop_timeout = 30.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.home = Path(settings.stack_dir) / self.name
        self.process = SupervisedProcess(
            self.name, self.home, Supervisor(Path(settings.stack_dir))
        )

    @property
    def url(self) -> str:
        raise NotImplementedError

    def command(self) -> tuple[list[str], dict[str, str]]:
        """The argv and the environment variables that run the server."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Create the folders and files the server needs before it starts."""

    def is_ready(self) -> bool:
        """A real request that succeeds only once the server can do its job."""
        raise NotImplementedError

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url if "//" in self.url else f"//{self.url}")
        return parts.hostname, parts.port

    def answering(self) -> bool:
        """Whether something already serves on this server's port (started here or not)."""
        return port_open(*self.address)

    def up(self) -> bool:
        """Start the server unless it runs already, then wait until ready; True if started here.

        A server answering on the port that this stack dir does not run (another stack dir, or
        a compose container) is used as it is. One that this call starts but that exits or
        does not get ready in time is stopped again, not left restarting.
        """
        started = not self.process.supervised() and not self.answering()
        if started:
            private_dir(self.home)
            self.prepare()
            argv, env = self.command()
            self.process.start(argv, env, cwd=self.home, stop_timeout=self.stop_timeout)
        owned = self.process if started or self.process.supervised() else None
        try:
            wait_until(self.is_ready, self.start_timeout, self.name, owned, starting=started)
        except NotReady:
            if started:
                self.process.stop()
            raise
        return started

    def down(self) -> bool:
        """Stop the server if this stack dir runs it; True if it was running or restarting."""
        return self.process.stop()

    def status(self) -> ServerStatus:
        """Running if this stack dir's process lives or anything answers on the port."""
        program = self.process.state()
        pid = program.pid if program else None
        running = pid is not None or self.answering()
        return ServerStatus(self.name, running, pid, self.url, program)

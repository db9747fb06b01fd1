"""What every local server shares: start unless running, wait until ready, stop, report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from infra.private import private_dir
from infra.processes import ManagedProcess, port_open, wait_until
from settings import Settings


@dataclass(frozen=True)
class ServerStatus:
    """One line of `python -m infra status`; pid is None for a server this stack did not start."""

    name: str
    running: bool
    pid: int | None
    url: str

    def __str__(self) -> str:
        if not self.running:
            state = "stopped"
        elif self.pid is None:
            state = "running (not started from this stack dir)"
        else:
            state = f"running (pid {self.pid})"
        return f"{self.name:<6} {state:<44} {self.url}"


class Server:
    """A server whose state, log and pid file live in <stack_dir>/<name>/ (0700).

    Subclasses give its name, url, command line and readiness probe.
    """

    name: str
    start_timeout = 60.0
    stop_timeout = 30.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.home = Path(settings.stack_dir) / self.name
        self.process = ManagedProcess(self.name, self.home)

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

        A server answering on the port without a pid file here (another stack dir, or a
        compose container) is used as it is.
        """
        started = self.process.pid() is None and not self.answering()
        if started:
            private_dir(self.home)
            self.prepare()
            argv, env = self.command()
            self.process.spawn(argv, env, cwd=self.home)
        owned = self.process if started or self.process.pid() is not None else None
        wait_until(self.is_ready, self.start_timeout, self.name, owned)
        return started

    def down(self) -> bool:
        """Stop the server if this stack dir's pid file records it; True if it was running."""
        return self.process.stop(self.stop_timeout)

    def status(self) -> ServerStatus:
        """Running if this stack dir's process lives or anything answers on the port."""
        pid = self.process.pid()
        running = pid is not None or self.answering()
        return ServerStatus(self.name, running, pid, self.url)

"""Waiting for servers and finding ports; the processes themselves run under infra.supervisor."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.supervisor import SupervisedProcess

# Servers get a clean environment, so nothing from the caller's shell changes how they run.
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


class NotReady(RuntimeError):
    """A server did not answer in time, or exited while starting."""


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    name: str,
    process: SupervisedProcess | None,
    *,
    starting: bool = False,
) -> None:
    """Poll `ready` until it returns true; raise NotReady, with the server log's tail, if not.

    `process` is the server's own process when this stack runs it; if `starting` (this call
    started it), its first exit ends the wait instead of waiting for supervisord's retries.
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


def free_port() -> int:
    """A loopback port that can be bound (right now), below the ephemeral range."""
    return free_ports_at((0,))


def free_port_block(length: int) -> int:
    """A port P such that P .. P + length - 1 can all be bound (right now), for a server that
    listens on consecutive ports (SeaweedFS: S3, then its side ports)."""
    return free_ports_at(range(length))


def free_ports_at(offsets: Sequence[int]) -> int:
    """A port P such that P + each offset can be bound (right now): a server's ports
    (Elasticsearch: HTTP, and transport at +100).

    Taken below the kernel's ephemeral range, where outgoing connections take their local
    ports: a port in that range, free when checked, can be taken by one of them before the
    server binds it.
    """
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(20000, ephemeral_low - max(offsets)), 500):
        if all(can_bind(port + offset) for offset in offsets):
            return port
    raise RuntimeError(f"no free ports at offsets {list(offsets)} below {ephemeral_low}")


def can_bind(port: int) -> bool:
    """Whether a loopback listener could take this port now."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False

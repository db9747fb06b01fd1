"""Finding ports for servers, and the error a server that does not come up raises.

The processes themselves run under infra.supervisor; infra.server waits for them."""

from __future__ import annotations

import random
import socket
from collections.abc import Sequence
from pathlib import Path


class NotReady(RuntimeError):
    """A server did not answer in time, or exited while starting."""


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

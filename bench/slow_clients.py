"""Slow HTTP clients for drills and tests: connections that send one byte a second.

`slow_clients(host, port, count, "headers")` opens `count` connections whose request headers
never end; with "body", whole headers announcing a 10 MB multipart upload whose body then
comes a byte at a time. One thread feeds them all until the block exits.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

KINDS = ("headers", "body")
ANNOUNCED_BODY_BYTES = 10_000_000
BOUNDARY = "slow-client-boundary"
# Connections open this far apart, as clients arrive; all at once, a single gunicorn worker
# would accept nearly all of them.
OPENING_GAP_S = 0.02


def opening(kind: str) -> bytes:
    """What a slow client sends at once, before the byte-a-second part."""
    if kind == "headers":
        return b"GET /is_alive HTTP/1.1\r\nHost: slow-client\r\nX-Slow: "
    if kind == "body":
        return (
            "POST /post_image HTTP/1.1\r\nHost: slow-client\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {ANNOUNCED_BODY_BYTES}\r\n\r\n"
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="s.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
        ).encode("latin-1")
    raise ValueError(f"kind is one of {KINDS}, not {kind!r}")


@dataclass
class SlowClients:
    """The open connections; `open` counts those the server has not closed yet."""

    sockets: list[socket.socket] = field(default_factory=list)
    closed: set[int] = field(default_factory=set)

    @property
    def open(self) -> int:
        return len(self.sockets) - len(self.closed)

    def trickle(self) -> None:
        """Send one more byte on every connection still open."""
        for number, connection in enumerate(self.sockets):
            if number in self.closed:
                continue
            try:
                connection.send(b"a")
            except OSError:
                self.closed.add(number)


@contextmanager
def slow_clients(
    host: str, port: int, count: int, kind: str, interval_s: float = 1.0
) -> Iterator[SlowClients]:
    """`count` connections of `kind` sending a byte every `interval_s`, closed on exit."""
    clients = SlowClients()
    stop = threading.Event()

    def feed() -> None:
        while not stop.wait(interval_s):
            clients.trickle()

    feeder = threading.Thread(target=feed, name="slow clients", daemon=True)
    try:
        for _ in range(count):
            connection = socket.create_connection((host, port), timeout=5)
            connection.sendall(opening(kind))
            clients.sockets.append(connection)
            time.sleep(OPENING_GAP_S)
        feeder.start()
        yield clients
    finally:
        stop.set()
        if feeder.is_alive():
            feeder.join()
        for connection in clients.sockets:
            connection.close()

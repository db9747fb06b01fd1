"""Apps under test and the addresses they are pointed at."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from ingest_api import create_app
from settings import Settings


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_app(settings: Settings) -> Iterator[Flask]:
    """An app for a test, its producer closed when the test ends."""
    app = create_app({"TESTING": True, "SETTINGS": settings})
    try:
        yield app
    finally:
        app.extensions["kafka_publisher"].close()

"""Apps under test and the addresses they are pointed at."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from ingest_api import create_app
from settings import Settings


@contextmanager
def running_app(settings: Settings) -> Iterator[Flask]:
    """An app for a test, its producer closed when the test ends."""
    app = create_app({"TESTING": True, "SETTINGS": settings})
    try:
        yield app
    finally:
        app.extensions["kafka_publisher"].close()

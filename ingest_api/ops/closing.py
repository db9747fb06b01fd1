"""Closing the app's long-lived clients once, when the process serving it ends.

The Kafka producer, the Elasticsearch client and the champion's refresh thread live as long as
the app. Each registers its close with on_close() when it joins the app; close_app() calls
them, last joined first: gunicorn's worker_exit hook does (server.py), and atexit for any other
process that built an app (a dev server, a script). A second call does nothing. The request
path holds no client of its own beyond one request (the readiness check closes its admin
client itself), so there is nothing to close at teardown_appcontext.
"""

from __future__ import annotations

import atexit
import logging
import weakref
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)

EXTENSION_KEY = "closers"


def init_app(app: Flask) -> None:
    """Close the app's clients when the process exits, unless closed earlier (without keeping
    the app alive for it)."""
    app.extensions[EXTENSION_KEY] = []
    ref = weakref.ref(app)
    atexit.register(
        lambda: (alive := ref()) is not None and close_app(alive, "the process exits")
    )


def on_close(app: Flask, close: Callable[[], None]) -> None:
    """Call `close` when the app is closed."""
    app.extensions[EXTENSION_KEY].append(close)


def close_app(app: Flask, why: str = "the app is done") -> None:
    """Close every client of the app, last joined first; a close that fails is logged, and so
    is `why` the app was closed."""
    closers, app.extensions[EXTENSION_KEY] = app.extensions.get(EXTENSION_KEY, []), []
    for close in reversed(closers):
        try:
            close()
        except Exception:
            log.exception("closing %r failed", close)
    if closers:
        log.info("closed the app's %d clients: %s", len(closers), why)

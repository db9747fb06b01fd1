"""A request id for every request: in the answer's X-Request-ID header, in every error body and on
every log line written while the request is handled, so a user can quote it and an operator find
the details that the answer leaves out.

A well-formed X-Request-ID from the client or the proxy in front is kept; otherwise one is made.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def current_request_id() -> str | None:
    """The id of the request being handled, None outside a request."""
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Adds `request_id` ("-" outside a request) to every record a handler formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


_FILTER = RequestIdFilter()


def init_app(app: Flask) -> None:
    """Assign ids before each request, echo them after, and stamp the app's log lines."""
    app.before_request(_assign)
    app.after_request(_echo)
    app.logger.setLevel(logging.INFO)  # also attaches Flask's default handler to the app logger
    default_handler.addFilter(_FILTER)
    default_handler.setFormatter(logging.Formatter(LOG_FORMAT))


def _assign() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if WELL_FORMED.fullmatch(given) else uuid.uuid4().hex


def _echo(response):
    if request_id := current_request_id():
        response.headers[HEADER] = request_id
    return response

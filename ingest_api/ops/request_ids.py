"""A request id for every request: in the answer's X-Request-ID header, in every error body and on
every log line written while the request is handled, so a user can quote it and an operator find
the details that the answer leaves out.

A well-formed X-Request-ID from the client or the proxy in front is kept; otherwise one is made.
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

from adapters.json_logs import JsonFormatter, quiet_libraries
from photo.rules import REQUEST_ID as WELL_FORMED

HEADER = "X-Request-ID"


def current_request_id() -> str | None:
    """The id of the request being handled, None outside a request."""
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (None outside a request) to every record a handler formats, unless the
    record carries one already (the stream's lines carry the id their photo came in with)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


_FILTER = RequestIdFilter()


def init_app(app: Flask) -> None:
    """Assign ids before each request, echo them after, and write the app's log lines as JSON
    stamped with them."""
    app.before_request(_assign)
    app.after_request(_echo)
    app.logger.setLevel(logging.INFO)  # also attaches Flask's default handler to the app logger
    default_handler.addFilter(_FILTER)
    default_handler.setFormatter(JsonFormatter())
    quiet_libraries()  # exifread's warnings would reach the log as bare text


def _assign() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if WELL_FORMED.fullmatch(given) else uuid.uuid4().hex


def _echo(response):
    if request_id := current_request_id():
        response.headers[HEADER] = request_id
    return response

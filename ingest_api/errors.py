"""Every failure becomes a JSON answer {"error": code, "message": sentence} here, and only here.

Typed errors come from the image core (ImageRejected), the form (ApiError subclasses), the
publisher and the image index (their *Unavailable errors) and Werkzeug (HTTPException); this
module gives each its HTTP status once.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ingest_api.decode_budget import DecodeBusy
from ingest_api.image_records import IndexUnavailable
from ingest_api.publisher import KafkaUnavailable
from preprocessing import CorruptImage, ImageRejected, TooManyPixels, UnsupportedFormat

log = logging.getLogger(__name__)

# The core's refusals: the format is not ours (415) or the image cannot be used (422).
REJECTION_STATUS = {UnsupportedFormat: 415, CorruptImage: 422, TooManyPixels: 422}

# Seconds a client should wait before retrying when a backing service is down.
RETRY_AFTER_SECONDS = 5

# How much of an oversized body is read and thrown away so that the client, which is usually
# still sending it, receives the 413 instead of a reset connection. Beyond this we close.
DRAIN_LIMIT_BYTES = 256 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024


class ApiError(Exception):
    """A refusal of the request itself, with its HTTP status and machine-readable code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code or self.code


class PayloadTooLarge(ApiError):
    status = 413
    code = "too_large"


def error_response(status: int, code: str, message: str, headers=None) -> Response:
    response = jsonify(error=code, message=message)
    response.status_code = status
    response.headers.extend(headers or {})
    return response


def unavailable_response(code: str, message: str) -> Response:
    return error_response(503, code, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(ImageRejected, _image_rejected)
    app.register_error_handler(KafkaUnavailable, _kafka_unavailable)
    app.register_error_handler(IndexUnavailable, _index_unavailable)
    app.register_error_handler(DecodeBusy, _decode_busy)
    app.register_error_handler(RequestEntityTooLarge, _entity_too_large)
    app.register_error_handler(HTTPException, _http_exception)


def _api_error(error: ApiError) -> Response:
    if error.status == 413:
        _drain_request_body()
    return error_response(error.status, error.code, str(error))


def _image_rejected(error: ImageRejected) -> Response:
    status = next((code for kind, code in REJECTION_STATUS.items() if isinstance(error, kind)), 422)
    return error_response(status, error.reason, str(error))


def _kafka_unavailable(error: KafkaUnavailable) -> Response:
    return unavailable_response("kafka_unavailable", str(error))


def _index_unavailable(error: IndexUnavailable) -> Response:
    return unavailable_response("elasticsearch_unavailable", str(error))


def _decode_busy(error: DecodeBusy) -> Response:
    log.warning("upload refused, worker busy decoding: %s", error)
    return unavailable_response(
        "decoder_busy", "the server is busy decoding other large photos; retry in a few seconds"
    )


def _entity_too_large(error: RequestEntityTooLarge) -> Response:
    _drain_request_body()
    limit = request.max_content_length
    return error_response(
        413, "too_large", f"the request is larger than the limit of {limit:,} bytes"
    )


def _http_exception(error: HTTPException) -> Response:
    """404, 405 and the rest of Werkzeug's errors, as JSON, keeping their headers (Allow)."""
    response = error.get_response()
    code = (error.name or "error").lower().replace(" ", "_")
    json = jsonify(error=code, message=error.description)
    response.set_data(json.get_data())
    response.content_type = json.content_type
    return response


def _drain_request_body() -> None:
    """Read what is left of the body (up to DRAIN_LIMIT_BYTES) so the answer reaches the client.

    HTTP/1.1 clients such as requests and urllib send the whole body before they read a
    response; a server that answers early and closes the socket with unread data makes the
    kernel send a reset, and the client sees a broken connection instead of our 413.
    """
    environ = request.environ
    length = request.content_length
    limit = request.max_content_length
    if length is not None and (limit is None or length <= limit):
        stream = request.stream  # counts what the form parser already read
    elif length is not None or environ.get("wsgi.input_terminated"):
        stream = environ["wsgi.input"]  # unread because too long, or chunked and self-ending
    else:
        return  # no length and no end marker: reading could block forever
    remaining = DRAIN_LIMIT_BYTES if length is None else min(length, DRAIN_LIMIT_BYTES)
    try:
        while remaining > 0:
            chunk = stream.read(min(_DRAIN_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
    except (OSError, ValueError, HTTPException):
        pass  # the client went away or the stream is spent: nothing left to protect

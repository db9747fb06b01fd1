"""The API's typed errors, each carrying its answer: {"error": code, "message": sentence,
"request_id": id}, its HTTP status and its headers.

HttpError is the base: a subclass states its `status`, `code`, `retry_after` (seconds for the
Retry-After header), `challenge` (WWW-Authenticate), the message people read when its own words
are for the log only, whether the request's body is drained first, and how it is logged. The
errors live where they are raised (auth/tokens.py, upload/publisher.py,
records/image_records.py, ...); errors of other packages are answered through one table of
answers.py, which also registers the one handler.
Messages are written for the person using the API; what only an operator needs (a library's
words, an address, the cause) goes to the log under the request id.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from ingest_api.ops.request_ids import current_request_id
from photo.rules import InvalidFact

log = logging.getLogger(__name__)

# Seconds a client should wait before retrying when a backing service is down.
RETRY_AFTER_SECONDS = 5
INTERNAL_ERROR = "internal_error"
# nginx's own answer, on any route, while gunicorn does not answer (infra/nginx.py).
FRONT_UNAVAILABLE = "unavailable"

# How much of a refused body is read and thrown away so that the client, which is usually
# still sending it, receives the answer instead of a reset connection. Beyond this we close.
DRAIN_LIMIT_BYTES = 256 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024


class HttpError(Exception):
    """An error that knows its answer; str(self) is the message unless `public_message` is set.

    `code` None marks a base that is only raised as one of its subclasses. `log_level` None:
    not logged; `log_as`: the log line's words (None: "refused METHOD PATH").
    """

    status = 500
    code: str | None = None
    retry_after: int | None = None
    challenge: str | None = None
    public_message: str | None = None
    drains_body = False
    log_level: int | None = logging.INFO
    log_as: str | None = None

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        """Every code this class can answer with (for the OpenAPI contract)."""
        return () if cls.code is None else (cls.code,)

    @classmethod
    def answers_of(cls, foreign: type[Exception]) -> tuple[tuple[int, str], ...]:
        """(status, code) of each answer this class gives for another package's error type."""
        return tuple((cls.status, code) for code in cls.codes())

    @classmethod
    def answering(cls, error: Exception) -> HttpError:
        """The answer of another package's error (answers.py's table): its words, as the cause."""
        ours = cls(str(error))
        ours.__cause__ = error
        return ours

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.challenge is not None:
            headers["WWW-Authenticate"] = self.challenge
        return headers

    def log(self, raised: Exception) -> None:
        """Log the error `raised` (self, or the other package's error answered by self)."""
        if self.log_level is not None:
            what = self.log_as or f"refused {request.method} {request.path}"
            log.log(self.log_level, "%s: %s: %s (cause: %r)", what, self.code, raised,
                    raised.__cause__)

    def response(self) -> Response:
        if self.drains_body:
            drain_request_body()
        return error_response(self.status, self.code, self.public_message or str(self),
                              self.headers())


class Unavailable(HttpError):
    """A backing service cannot serve the request now: 503, retry in RETRY_AFTER_SECONDS."""

    status = 503
    retry_after = RETRY_AFTER_SECONDS
    log_level = logging.WARNING


class ApiError(HttpError):
    """A refusal of the request itself (400 unless a subclass says otherwise)."""

    status = 400


class NotMultipart(ApiError):
    code = "not_multipart"


class InvalidMultipart(ApiError):
    code = "invalid_multipart"


class MissingFile(ApiError):
    code = "missing_file"


class TooManyFiles(ApiError):
    code = "too_many_files"


class TooManyFields(ApiError):
    code = "too_many_fields"


class InvalidField(ApiError):
    """An optional form field that breaks its rule (photo/rules.py)."""

    def __init__(self, error: InvalidFact):
        super().__init__(str(error))
        self.code = error.code

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        return ("invalid_label", "invalid_location", "invalid_captured_at")


class InvalidImageId(ApiError):
    code = "invalid_image_id"


class PayloadTooLarge(ApiError):
    status = 413
    code = "too_large"
    drains_body = True

    @classmethod
    def answering(cls, error: Exception) -> HttpError:
        """Flask's own 413 (the request is over MAX_CONTENT_LENGTH), in the same words."""
        ours = cls(too_large_message(current_app.config["SETTINGS"].max_upload_bytes))
        ours.__cause__ = error
        return ours


class UnknownImage(ApiError):
    status = 404
    code = "not_found"


class InvalidFilter(ApiError):
    """A filter of the live map's query that makes no sense (ingest_api/maps/points.py)."""

    code = "invalid_filter"


class NotProcessed(ApiError):
    status = 409
    code = "not_processed"


class DatasetUnavailable(Unavailable):
    """The dataset's tables (S3) could not be read or written; the client should retry."""

    code = "dataset_unavailable"
    log_as = "dataset unavailable"
    public_message = (
        "the dataset could not be read or written right now; send the request again in "
        f"{RETRY_AFTER_SECONDS} seconds (sending a correction twice is harmless)"
    )


def too_large_message(max_upload_bytes: int) -> str:
    """The 413's message, whoever refuses: the form (the file alone is too large), Flask or the
    nginx in front (infra/nginx.py) (the request is). All three name the user's limit,
    MAX_UPLOAD_BYTES, not the request's, which adds room for the form around the photo."""
    mib = max_upload_bytes / 2**20
    return (f"the photo is larger than the limit of {max_upload_bytes:,} bytes "
            f"({mib:.3g} MiB); send a smaller one")


def error_response(status: int, code: str | None, message: str, headers=None) -> Response:
    response = jsonify(error=code, message=message, request_id=current_request_id())
    response.status_code = status
    response.headers.extend(headers or {})
    return response


def drain_request_body() -> None:
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

"""Every failure becomes a JSON answer here, and only here:
{"error": code, "message": sentence, "request_id": id}.

Typed errors come from the image core (ImageRejected), the form and routes (ApiError
subclasses), the publisher and the image index (their *Unavailable errors), the served model
(model/champion.py: NoModel, ModelUnavailable), authentication
(auth.py), the rate limits (flask-limiter's RateLimitExceeded) and Werkzeug (HTTPException);
this module gives each its HTTP status once. Messages are written for the person using the API;
what only an operator needs (a library's words, an address, the cause) goes to the log under the
request id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, Response, current_app, jsonify, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)
from werkzeug.http import HTTP_STATUS_CODES

from ingest_api.auth import (
    MissingToken,
    NotAuthenticated,
    RevokedToken,
    TokenStoreUnavailable,
)
from ingest_api.auth_limits import retry_after_seconds, too_many_message
from ingest_api.decode_budget import DecodeBusy
from ingest_api.image_records import IndexBusy, IndexUnavailable
from ingest_api.publisher import KafkaBusy, KafkaNotReady, KafkaUnavailable
from ingest_api.request_ids import current_request_id
from model.champion import ModelUnavailable, NoModel
from preprocessing import CorruptImage, ImageRejected, TooManyPixels, UnsupportedFormat
from preprocessing.client_facts import InvalidFact

log = logging.getLogger(__name__)

# The core's refusals: the format is not ours (415) or the image cannot be used (422).
REJECTION_STATUS = {UnsupportedFormat: 415, CorruptImage: 422, TooManyPixels: 422}

# Seconds a client should wait before retrying when a backing service is down.
RETRY_AFTER_SECONDS = 5

# RFC 6750's challenge: the scheme to use, and why the token sent was refused.
BEARER_CHALLENGE = 'Bearer realm="ingest_api"'
INVALID_TOKEN_CHALLENGE = f'{BEARER_CHALLENGE}, error="invalid_token"'

# How much of an oversized body is read and thrown away so that the client, which is usually
# still sending it, receives the 413 instead of a reset connection. Beyond this we close.
DRAIN_LIMIT_BYTES = 256 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024


class ApiError(Exception):
    """A refusal of the request itself: each subclass has its HTTP status and its code.

    `codes` lists every code a subclass can carry (InvalidField takes the rule's own).
    """

    status = 400
    code = "bad_request"

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        return (cls.code,)


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
    """An optional form field that breaks its rule (preprocessing/client_facts.py)."""

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


class UnknownImage(ApiError):
    status = 404
    code = "not_found"


class InvalidFilter(ApiError):
    """A filter of the live map's query that makes no sense (ingest_api/map_points.py)."""

    code = "invalid_filter"


class NotProcessed(ApiError):
    status = 409
    code = "not_processed"


class DatasetUnavailable(Exception):
    """The dataset's tables (S3) could not be read or written; the client should retry."""

    code = "dataset_unavailable"


# The error types answered here without a status of their own -> their status. ApiError
# subclasses carry theirs; Werkzeug's HTTPExceptions keep theirs.
STATUS = {
    NotAuthenticated: 401,
    RevokedToken: 403,
    RateLimitExceeded: 429,
    KafkaUnavailable: 503,
    IndexUnavailable: 503,
    DatasetUnavailable: 503,
    TokenStoreUnavailable: 503,
    DecodeBusy: 503,
    NoModel: 503,
    ModelUnavailable: 503,
    **REJECTION_STATUS,
}
RATE_LIMITED = "rate_limited"
INTERNAL_ERROR = "internal_error"
# nginx's own answer, on any route, while gunicorn does not answer (infra/nginx.py).
FRONT_UNAVAILABLE = "unavailable"

# Werkzeug's own errors that requests meet before a route runs: a form the parser cannot read,
# a path no route has, a method the route does not take.
WERKZEUG_ERRORS = (BadRequest, NotFound, MethodNotAllowed)


@dataclass(frozen=True)
class ErrorAnswer:
    """One error answer this module can give: its status, its code and the error behind it."""

    status: int
    code: str
    error: type[Exception]


def error_answers() -> tuple[ErrorAnswer, ...]:
    """Every error answer of the app, derived from the typed errors (for the OpenAPI contract).

    nginx in front adds two of its own with the same body (infra/nginx.py): too_large (413),
    and 503 unavailable while gunicorn does not answer.
    """
    answers = [
        ErrorAnswer(kind.status, code, kind)
        for kind in _subclasses(ApiError)
        for code in kind.codes()
    ]
    answers += [ErrorAnswer(STATUS[kind], kind.reason, kind) for kind in REJECTION_STATUS]
    answers += [
        ErrorAnswer(STATUS[root], kind.code, kind)
        for root in (NotAuthenticated, RevokedToken)
        for kind in (root, *_subclasses(root))
        if kind is not NotAuthenticated  # always raised as one of its subclasses
    ]
    answers += [
        ErrorAnswer(503, kind.code, kind)
        for kind in (KafkaUnavailable, KafkaBusy, IndexUnavailable, IndexBusy, DatasetUnavailable,
                     TokenStoreUnavailable, DecodeBusy, NoModel, ModelUnavailable)
    ]
    answers += [
        ErrorAnswer(429, RATE_LIMITED, RateLimitExceeded),
        ErrorAnswer(413, PayloadTooLarge.code, RequestEntityTooLarge),
        *(ErrorAnswer(kind.code, werkzeug_code(kind.code), kind) for kind in WERKZEUG_ERRORS),
        ErrorAnswer(500, INTERNAL_ERROR, Exception),
    ]
    return tuple(answers)


def _subclasses(kind: type) -> list[type]:
    found = []
    for sub in kind.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def werkzeug_code(status: int) -> str:
    """The code of a Werkzeug error's answer: its status's name in snake case (not_found)."""
    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_")


def error_response(status: int, code: str, message: str, headers=None) -> Response:
    response = jsonify(error=code, message=message, request_id=current_request_id())
    response.status_code = status
    response.headers.extend(headers or {})
    return response


def unavailable_response(code: str, message: str) -> Response:
    return error_response(503, code, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(ImageRejected, _image_rejected)
    app.register_error_handler(KafkaNotReady, _kafka_not_ready)
    app.register_error_handler(KafkaUnavailable, _kafka_unavailable)
    app.register_error_handler(KafkaBusy, _kafka_busy)
    app.register_error_handler(IndexUnavailable, _index_unavailable)
    app.register_error_handler(IndexBusy, _index_busy)
    app.register_error_handler(DatasetUnavailable, _dataset_unavailable)
    app.register_error_handler(NotAuthenticated, _not_authenticated)
    app.register_error_handler(RevokedToken, _revoked_token)
    app.register_error_handler(TokenStoreUnavailable, _token_store_unavailable)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(DecodeBusy, _decode_busy)
    app.register_error_handler(NoModel, _no_model)
    app.register_error_handler(ModelUnavailable, _model_unavailable)
    app.register_error_handler(RequestEntityTooLarge, _entity_too_large)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)


def _api_error(error: ApiError) -> Response:
    log.info("refused %s %s: %s: %s", request.method, request.path, error.code, error)
    if error.status == 413:
        _drain_request_body()
    return error_response(error.status, error.code, str(error))


def _image_rejected(error: ImageRejected) -> Response:
    log.info("refused the image: %s: %s (cause: %r)", error.reason, error, error.__cause__)
    status = next((code for kind, code in REJECTION_STATUS.items() if isinstance(error, kind)), 422)
    return error_response(status, error.reason, str(error))


def _kafka_not_ready(error: KafkaNotReady) -> Response:
    log.warning("not ready, Kafka is unavailable: %s (cause: %r)", error, error.__cause__)
    return unavailable_response(
        error.code,
        "not ready: Kafka does not answer or has no such topic; the API's log says which, "
        "under this request id",
    )


def _kafka_unavailable(error: KafkaUnavailable) -> Response:
    log.warning("Kafka is unavailable: %s (cause: %r)", error, error.__cause__)
    _drain_request_body()  # refused during an outage maybe before the body was read
    return unavailable_response(
        error.code,
        "the upload could not be confirmed as stored right now; send it again in "
        f"{RETRY_AFTER_SECONDS} seconds (sending the same photo twice is harmless)",
    )


def _kafka_busy(error: KafkaBusy) -> Response:
    log.warning("upload refused, worker busy with other uploads: %s", error)
    _drain_request_body()
    return unavailable_response(
        error.code,
        "the server is busy storing other uploads; send this one again in "
        f"{RETRY_AFTER_SECONDS} seconds (sending the same photo twice is harmless)",
    )


def _index_busy(error: IndexBusy) -> Response:
    log.warning("look-up refused, worker busy with other look-ups: %s", error)
    return unavailable_response(
        error.code,
        f"the server is busy with other look-ups; ask again in {RETRY_AFTER_SECONDS} seconds",
    )


def _index_unavailable(error: IndexUnavailable) -> Response:
    log.warning("Elasticsearch is unavailable: %s (cause: %r)", error, error.__cause__)
    return unavailable_response(
        error.code,
        f"image records cannot be looked up right now; ask again in {RETRY_AFTER_SECONDS} "
        "seconds (uploads still work)",
    )


def _dataset_unavailable(error: DatasetUnavailable) -> Response:
    log.warning("dataset unavailable: %s (cause: %r)", error, error.__cause__)
    return unavailable_response(
        error.code,
        "the dataset could not be read or written right now; send the request again in "
        f"{RETRY_AFTER_SECONDS} seconds (sending a correction twice is harmless)",
    )


def _not_authenticated(error: NotAuthenticated) -> Response:
    _drain_request_body()  # refused before the body was read, like the 413s
    challenge = BEARER_CHALLENGE if isinstance(error, MissingToken) else INVALID_TOKEN_CHALLENGE
    return error_response(
        STATUS[NotAuthenticated], error.code, str(error), {"WWW-Authenticate": challenge}
    )


def _revoked_token(error: RevokedToken) -> Response:
    _drain_request_body()
    return error_response(STATUS[RevokedToken], error.code, str(error))


def _token_store_unavailable(error: TokenStoreUnavailable) -> Response:
    log.error("the token store cannot be read: %s (cause: %r)", error, error.__cause__)
    return unavailable_response(
        error.code,
        f"tokens cannot be checked right now; retry in {RETRY_AFTER_SECONDS} seconds",
    )


def _rate_limited(error: RateLimitExceeded) -> Response:
    _drain_request_body()
    seconds = retry_after_seconds()
    return error_response(
        STATUS[RateLimitExceeded],
        RATE_LIMITED,
        too_many_message(error.limit.limit, seconds),
        {"Retry-After": str(seconds)},
    )


def _decode_busy(error: DecodeBusy) -> Response:
    log.warning("upload refused, worker busy decoding: %s", error)
    return unavailable_response(
        error.code,
        f"the server is busy decoding other large photos; retry in {RETRY_AFTER_SECONDS} seconds",
    )


def _no_model(error: NoModel) -> Response:
    log.warning("no photo can be classified: %s", error)
    return unavailable_response(
        error.code,
        "no model has been promoted yet, so photos cannot be classified; an operator trains "
        "one and promotes it (python -m model promote VERSION). Uploads still work",
    )


def _model_unavailable(error: ModelUnavailable) -> Response:
    log.warning("no photo can be classified: %s", error)
    return unavailable_response(
        error.code,
        "this server has no model loaded yet: the model registry does not answer, or the model "
        f"is still being loaded; retry in {RETRY_AFTER_SECONDS} seconds (uploads still work)",
    )


def too_large_message(max_upload_bytes: int) -> str:
    """The 413's message, whoever refuses: the form (the file alone is too large), Flask or the
    nginx in front (infra/nginx.py) (the request is). All three name the user's limit,
    MAX_UPLOAD_BYTES, not the request's, which adds room for the form around the photo."""
    mib = max_upload_bytes / 2**20
    return (f"the photo is larger than the limit of {max_upload_bytes:,} bytes "
            f"({mib:.3g} MiB); send a smaller one")


def _entity_too_large(error: RequestEntityTooLarge) -> Response:
    _drain_request_body()
    settings = current_app.config["SETTINGS"]
    return error_response(413, PayloadTooLarge.code, too_large_message(settings.max_upload_bytes))


def _unexpected(error: Exception) -> Response:
    """A bug of ours: JSON all the same, the details only in the log."""
    log.exception("unexpected failure on %s %s", request.method, request.path)
    return error_response(
        500,
        INTERNAL_ERROR,
        "something went wrong on our side; if it happens again, report the request id",
    )


def _http_exception(error: HTTPException) -> Response:
    """404, 405 and the rest of Werkzeug's errors, as JSON, keeping their headers (Allow)."""
    response = error.get_response()
    json = jsonify(
        error=werkzeug_code(response.status_code),
        message=error.description,
        request_id=current_request_id(),
    )
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

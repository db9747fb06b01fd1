"""Every failure becomes a JSON answer here, and only here, through one handler.

Our errors carry their answer (errors.py's HttpError). Errors of other packages are answered
by one of ours, through FOREIGN: the image core's refusals (ImageRejected), the served model's
(model/champion.py), flask-limiter's RateLimitExceeded and Werkzeug's HTTPExceptions. Anything
else is a bug of ours: a 500 with the details only in the log. error_answers() lists every
answer for the OpenAPI contract, from the same classes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, Response, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)
from werkzeug.http import HTTP_STATUS_CODES

from ingest_api.auth.limits import RateLimited
from ingest_api.ops.errors import (
    INTERNAL_ERROR,
    RETRY_AFTER_SECONDS,
    HttpError,
    PayloadTooLarge,
    Unavailable,
)
from model.champion import ModelUnavailable, NoModel
from preprocessing import CorruptImage, ImageRejected, TooManyPixels, UnsupportedFormat

log = logging.getLogger(__name__)


class UnusableImage(HttpError):
    """The image core's refusal (422): the image cannot be used; its code is the reason."""

    status = 422
    log_as = "refused the image"

    @classmethod
    def answering(cls, error: ImageRejected) -> HttpError:
        ours = super().answering(error)
        ours.code = error.reason
        return ours

    @classmethod
    def answers_of(cls, foreign: type[ImageRejected]) -> tuple[tuple[int, str], ...]:
        return ((cls.status, foreign.reason),)


class UnsupportedImage(UnusableImage):
    """The image core's refusal of a format that is not ours (415)."""

    status = 415


class NotPromoted(Unavailable):
    """The served model's NoModel: no model has been promoted yet."""

    code = NoModel.code
    log_as = "no photo can be classified"
    public_message = (
        "no model has been promoted yet, so photos cannot be classified; an operator trains "
        "one and promotes it (python -m model promote VERSION). Uploads still work"
    )


class NotLoaded(Unavailable):
    """The served model's ModelUnavailable: the registry does not answer, or the model loads."""

    code = ModelUnavailable.code
    log_as = "no photo can be classified"
    public_message = (
        "this server has no model loaded yet: the model registry does not answer, or the model "
        f"is still being loaded; retry in {RETRY_AFTER_SECONDS} seconds (uploads still work)"
    )


class WerkzeugError(HttpError):
    """404, 405 and the rest of Werkzeug's errors: their status, description and headers
    (Allow); the code is the status's name in snake case (not_found)."""

    log_level = None

    @classmethod
    def answering(cls, error: HTTPException) -> HttpError:
        ours = cls(error.description)
        response = error.get_response()
        ours.status = response.status_code
        ours.code = werkzeug_code(response.status_code)
        ours.kept_headers = {name: value for name, value in response.headers
                             if name.lower() not in ("content-type", "content-length")}
        ours.__cause__ = error
        return ours

    @classmethod
    def answers_of(cls, foreign: type[HTTPException]) -> tuple[tuple[int, str], ...]:
        return ((foreign.code, werkzeug_code(foreign.code)),)

    def headers(self) -> dict[str, str]:
        return self.kept_headers


class Unexpected(HttpError):
    """A bug of ours: JSON all the same, the details only in the log."""

    code = INTERNAL_ERROR
    public_message = "something went wrong on our side; if it happens again, report the request id"

    def log(self, raised: Exception) -> None:
        log.error("unexpected failure on %s %s", request.method, request.path, exc_info=raised)


# Errors of other packages -> the class of ours that answers for them. A type stands for its
# subclasses; the contract lists the types that have no more specific entry.
FOREIGN: dict[type[Exception], type[HttpError]] = {
    ImageRejected: UnusableImage,
    UnsupportedFormat: UnsupportedImage,
    CorruptImage: UnusableImage,
    TooManyPixels: UnusableImage,
    NoModel: NotPromoted,
    ModelUnavailable: NotLoaded,
    RateLimitExceeded: RateLimited,
    RequestEntityTooLarge: PayloadTooLarge,
    HTTPException: WerkzeugError,
    # Werkzeug's own errors that requests meet before a route runs: a form the parser cannot
    # read, a path no route has, a method the route does not take.
    BadRequest: WerkzeugError,
    NotFound: WerkzeugError,
    MethodNotAllowed: WerkzeugError,
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Exception, answer)


def answer(error: Exception) -> Response:
    """The one handler: the answer `error` carries, or the answer of ours that FOREIGN names."""
    ours = error if isinstance(error, HttpError) else answering(error)
    ours.log(error)
    return ours.response()


def answering(error: Exception) -> HttpError:
    ours = next((FOREIGN[kind] for kind in type(error).__mro__ if kind in FOREIGN), Unexpected)
    return ours.answering(error)


def werkzeug_code(status: int) -> str:
    """The code of a Werkzeug error's answer: its status's name in snake case (not_found)."""
    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_")


@dataclass(frozen=True)
class ErrorAnswer:
    """One error answer of the app: its status, its code and the error type behind it."""

    status: int
    code: str
    error: type[Exception]


def error_answers() -> tuple[ErrorAnswer, ...]:
    """Every error answer of the app, derived from the typed errors (for the OpenAPI contract).

    nginx in front adds two of its own with the same body (infra/nginx.py): too_large (413),
    and 503 unavailable while gunicorn does not answer.
    """
    answers = [
        ErrorAnswer(kind.status, code, kind) for kind in _subclasses(HttpError)
        for code in kind.codes()
    ]
    answers += [
        ErrorAnswer(status, code, foreign)
        for foreign, ours in FOREIGN.items()
        if not any(other is not foreign and issubclass(other, foreign) for other in FOREIGN)
        for status, code in ours.answers_of(foreign)
    ]
    return tuple(answers)


def _subclasses(kind: type) -> list[type]:
    found = []
    for sub in kind.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found

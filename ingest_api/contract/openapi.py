"""The OpenAPI 3.1 contract, generated from the app itself.

Paths and methods come from the app's url_map; what each route takes and answers from the
Operation attached to its view with @documented; the error answers from the typed errors
(ops/answers.py's error_answers); the request and answer bodies from api_schemas.py. Every route
also gets the errors that come before it runs: the token check (unless the route is open,
auth/tokens.py's OPEN_ENDPOINTS), the rate limit where one applies (auth/limits.py's
endpoint_limits), the 500 of a bug and nginx's 503
while gunicorn does not answer. A route without an Operation fails the contract test
(tests/ingest_api/contract/test_ingest_openapi.py).

The contract is the public port's: routes that nginx keeps for the internal port
(INTERNAL_ENDPOINTS) are not in it.
"""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.exceptions import NotFound

from ingest_api.auth.limits import (
    LIMIT_HEADER,
    REMAINING_HEADER,
    RESET_HEADER,
    endpoint_limits,
)
from ingest_api.auth.tokens import (
    OPEN_ENDPOINTS,
    NotAuthenticated,
    RevokedToken,
    TokenStoreUnavailable,
)
from ingest_api.contract import api_schemas
from ingest_api.contract.operations import JSON, Body, Operation
from ingest_api.ops.answers import ErrorAnswer, error_answers
from ingest_api.ops.errors import FRONT_UNAVAILABLE, RETRY_AFTER_SECONDS
from ingest_api.ops.request_ids import HEADER as REQUEST_ID_HEADER
from ingest_api.ops.version import __version__

EXTENSION_KEY = "openapi"
TITLE = "Crop photo ingest API"
SECURITY_SCHEME = "deviceToken"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Served on gunicorn's internal port only: nginx answers 404 for them (infra/nginx.py).
INTERNAL_ENDPOINTS = frozenset({"metrics.metrics"})
RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def operation_of(view) -> Operation | None:
    """The Operation of a view, looking through decorators that wrap it (the rate limits)."""
    while view is not None:
        if (found := getattr(view, "openapi", None)) is not None:
            return found
        view = getattr(view, "__wrapped__", None)
    return None


# Flask's own view of every app: the files of ingest_api/static/.
STATIC_FILES = Operation(
    "A file of the API's static folder: a script, style or image of its pages",
    {200: Body("the file", {}, "application/octet-stream")},
    errors=(NotFound,),
)


def openapi_document(app: Flask) -> dict:
    """The app's contract, built once per app."""
    if EXTENSION_KEY not in app.extensions:
        app.extensions[EXTENSION_KEY] = build_document(app)
    return app.extensions[EXTENSION_KEY]


def build_document(app: Flask) -> dict:
    """The contract of every route of `app`; raise LookupError for a route without one."""
    answers = error_answers()
    limited = set(endpoint_limits(app.config["SETTINGS"]))
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if rule.endpoint in INTERNAL_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        operation = STATIC_FILES if rule.endpoint == "static" else operation_of(view)
        if operation is None:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) has no @documented Operation")
        path = paths.setdefault(RULE_ARGUMENT.sub(r"{\1}", rule.rule), {})
        for method in sorted(rule.methods - IGNORED_METHODS):
            path[method.lower()] = _operation(rule, operation, answers, rule.endpoint in limited)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": __version__,
            "description": "Uploads crop photos and reports what the pipeline made of them. "
            "Every error answer is the Error object; every answer carries an "
            f"{REQUEST_ID_HEADER} header to quote.",
        },
        "security": [{SECURITY_SCHEME: []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A device token (`python -m ingest_api tokens issue --device "
                    "NAME`), sent as `Authorization: Bearer <token>`.",
                }
            },
            "schemas": {
                "Error": api_schemas.error_body(sorted({a.code for a in answers}
                                                       | {FRONT_UNAVAILABLE}))
            },
            "headers": {
                "RequestId": {
                    "description": "The request's id, also in error bodies and the API's log.",
                    "schema": {"type": "string"},
                },
                "RetryAfter": {
                    "description": "Whole seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 1},
                },
                **RATE_LIMIT_HEADERS,
            },
        },
    }


# The rate limit's headers (IETF draft-ietf-httpapi-ratelimit-headers, ingest_api/auth/limits.py),
# on every answer of a limited route past the token check.
RATE_LIMIT_HEADERS = {
    LIMIT_HEADER: {
        "description": "Requests of this kind the device may send per window.",
        "schema": {"type": "integer", "minimum": 1},
    },
    REMAINING_HEADER: {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    RESET_HEADER: {
        "description": "Seconds until the current window ends and the count starts again.",
        "schema": {"type": "integer", "minimum": 0},
    },
}


def _operation(rule, operation: Operation, answers, rate_limited: bool) -> dict:
    is_open = rule.endpoint in OPEN_ENDPOINTS
    errors = list(operation.errors)
    if not is_open:
        errors += [NotAuthenticated, RevokedToken, TokenStoreUnavailable]
    described = {
        "operationId": rule.endpoint,
        "summary": operation.summary,
        "responses": {
            **{
                str(status): _success(body, rate_limited)
                for status, body in operation.responses.items()
            },
            **_error_responses(errors, answers, rate_limited),
        },
    }
    if operation.description:
        described["description"] = operation.description
    if is_open:
        described["security"] = []
    if rule.arguments:
        described["parameters"] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": operation.parameters.get(name, {"type": "string"}),
            }
            for name in sorted(rule.arguments)
        ]
    if operation.request_body:
        described["requestBody"] = {
            "required": True,
            "content": {media: {"schema": s} for media, s in operation.request_body.items()},
        }
    return described


def _success(body: Body, rate_limited: bool) -> dict:
    headers = {REQUEST_ID_HEADER: {"$ref": "#/components/headers/RequestId"}}
    if rate_limited:
        headers |= {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}
    return {
        "description": body.description,
        "headers": headers | body.headers,
        "content": {body.media_type: {"schema": body.schema}},
    }


def _error_responses(errors, answers: tuple[ErrorAnswer, ...], rate_limited: bool) -> dict:
    """Status -> the Error answer of that status, limited to the codes this route can give."""
    chosen = [a for a in answers if any(issubclass(a.error, kind) for kind in errors)]
    if rate_limited:
        chosen += [a for a in answers if a.status == 429]
    chosen += [a for a in answers if a.status == 500]
    codes: dict[int, list[str]] = {}
    for answer in chosen:
        if answer.code not in codes.setdefault(answer.status, []):
            codes[answer.status].append(answer.code)
    codes.setdefault(503, []).append(FRONT_UNAVAILABLE)
    return {str(status): _error_response(status, codes[status]) for status in sorted(codes)}


def _error_response(status: int, codes: list[str]) -> dict:
    headers = {REQUEST_ID_HEADER: {"$ref": "#/components/headers/RequestId"}}
    if status in (429, 503):
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    if status == 429:
        headers |= {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}
    if status == 401:
        headers["WWW-Authenticate"] = {
            "description": 'The scheme to use: `Bearer realm="ingest_api"`, with '
            '`error="invalid_token"` when the token sent was refused.',
            "schema": {"type": "string"},
        }
    retry = (
        f" Retry after `Retry-After` seconds ({RETRY_AFTER_SECONDS} s for 503)."
        if (status in (429, 503))
        else ""
    )
    return {
        "description": "Refused: " + ", ".join(f"`{code}`" for code in codes) + "." + retry,
        "headers": headers,
        "content": {
            JSON: {
                "schema": {
                    "$ref": "#/components/schemas/Error",
                    "properties": {"error": {"enum": codes}},
                }
            }
        },
    }

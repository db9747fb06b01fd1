"""Cross-origin calls: a web view served from another origin may call the API.

A browser lets a page read an answer from another origin only when the answer names that origin
(Access-Control-Allow-Origin). Before a request with a token or a JSON body it sends a
preflight, an OPTIONS request that carries no token. CORS_ORIGINS (Settings.cors_origins,
read once) lists the origins allowed, comma-separated; "*" allows any; empty, the default,
allows none. Preflights are answered here, before the token check (tokens.py) and the rate
limits: they say what a page may send, never any data, and a refused origin gets no allowance.
"""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, request

from ingest_api.auth.limits import HEADERS as RATE_LIMIT_HEADERS
from ingest_api.ops.request_ids import HEADER as REQUEST_ID_HEADER
from settings import Settings

ANY_ORIGIN = "*"
# scheme://host[:port], as browsers send Origin: no path, no trailing slash.
ORIGIN = re.compile(r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")

ALLOWED_METHODS = "GET, POST, PUT"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-ID"
# What a page may read of an answer besides the simple headers.
EXPOSED_HEADERS = ", ".join(
    (REQUEST_ID_HEADER, "Retry-After", "WWW-Authenticate", "Location", *RATE_LIMIT_HEADERS)
)
MAX_AGE_S = 600  # how long a browser may reuse a preflight's answer


def allowed_origins(text: str) -> frozenset[str]:
    """The origins of a CORS_ORIGINS value; ValueError for one a browser would never send."""
    origins = frozenset(part.strip() for part in text.split(",") if part.strip())
    for origin in origins:
        if origin != ANY_ORIGIN and not ORIGIN.fullmatch(origin):
            raise ValueError(
                f"CORS_ORIGINS: {origin!r} is not an origin such as https://fields.example.org "
                "(scheme, host and port, no path), nor *"
            )
    return origins


class CrossOrigin:
    """Answers preflights and names allowed origins in answers (`origins` empty: none)."""

    def __init__(self, origins: frozenset[str]):
        self.origins = origins

    @classmethod
    def from_settings(cls, settings: Settings) -> CrossOrigin:
        return cls(allowed_origins(settings.cors_origins))

    def init_app(self, app: Flask) -> None:
        """Before the token check: create_app calls this before Authenticator.init_app."""
        app.extensions["cors"] = self
        app.before_request(self.preflight)
        app.after_request(self.allow)

    def allowance(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for a request from `origin`, or None."""
        if origin is None:
            return None
        if ANY_ORIGIN in self.origins:
            return ANY_ORIGIN
        return origin if origin in self.origins else None

    def preflight(self) -> Response | None:
        """204 for a preflight, with the allowances when its origin is allowed."""
        headers = request.headers
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in headers:
            return None
        response = current_app.response_class(status=204)
        if self.allowance(headers.get("Origin")) is not None:
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = str(MAX_AGE_S)
        return response

    def allow(self, response: Response) -> Response:
        """Name the request's origin in the answer when it is allowed (errors included)."""
        if self.origins and ANY_ORIGIN not in self.origins:
            response.vary.add("Origin")
        allowed = self.allowance(request.headers.get("Origin"))
        if allowed is not None:
            response.headers["Access-Control-Allow-Origin"] = allowed
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response

"""Who is calling: every request except the health probes carries a device's bearer token.

`Authorization: Bearer <token>` is checked before the route runs, against the TokenStore's
local SQLite file only, so uploads keep working while Elasticsearch or S3 are down. The
token's device becomes the request's device (current_device()): the API, not the client,
says which device sent a photo. With Settings.auth off nothing is checked and no device is
known. Refusals are the typed errors below, each carrying its answer (ops/errors.py).
"""

from __future__ import annotations

import logging
import re
import sqlite3

from flask import Flask, g, request

from ingest_api.auth.store import TokenStore
from ingest_api.ops.errors import RETRY_AFTER_SECONDS, HttpError, Unavailable
from settings import Settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "authenticator"

# Liveness and readiness probes come from the platform, which has no device token; /metrics is
# kept off the public port by nginx (ingest_api/ops/metrics.py); the contract and its docs page are
# public (contract/routes.py); the map and upload pages and the static scripts hold no data, and
# ask the person for a token themselves (maps/live_map.py, upload/page.py, review/routes.py).
OPEN_ENDPOINTS = frozenset({"health.is_alive", "health.readyz", "metrics.metrics"}) | frozenset(
    {"contract.openapi_json", "contract.docs", "contract.docs_asset", "static", "live_map.page",
     "upload_page.page", "review.page"}
)

# RFC 6750: the scheme (any case), one space, a b64token. Ours are 43 characters.
BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9._~+/-]{1,256}=*)")


# RFC 6750's challenge: the scheme to use, and why the token sent was refused.
BEARER_CHALLENGE = 'Bearer realm="ingest_api"'
INVALID_TOKEN_CHALLENGE = f'{BEARER_CHALLENGE}, error="invalid_token"'


class NotAuthenticated(HttpError):
    """The request carries no token we know (401): missing, malformed or never issued.

    Refused before the body was read, so the body is drained, as for the 413s.
    """

    status = 401
    challenge = INVALID_TOKEN_CHALLENGE
    drains_body = True
    log_level = None


class MissingToken(NotAuthenticated):
    code = "missing_token"
    challenge = BEARER_CHALLENGE


class MalformedToken(NotAuthenticated):
    code = "malformed_token"


class UnknownToken(NotAuthenticated):
    code = "unknown_token"


class RevokedToken(HttpError):
    """The token was issued to a device and has since been revoked (403)."""

    status = 403
    code = "revoked_token"
    drains_body = True
    log_level = None


class TokenStoreUnavailable(Unavailable):
    """The token store file cannot be opened or read; the client should retry later (503)."""

    code = "auth_unavailable"
    log_level = logging.ERROR
    log_as = "the token store cannot be read"
    public_message = f"tokens cannot be checked right now; retry in {RETRY_AFTER_SECONDS} seconds"


class Authenticator:
    """Checks each request's bearer token against the store; `store` None: auth is off."""

    def __init__(self, store: TokenStore | None):
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        if not settings.auth:
            log.warning("authentication is off (AUTH=off): anyone who reaches the API can use it")
            return cls(None)
        return cls(TokenStore.from_settings(settings))

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self
        app.before_request(self.authenticate)

    def authenticate(self) -> None:
        """Set g.device from the request's token, or raise one of this module's errors."""
        g.device = None
        if self.store is None or request.endpoint in OPEN_ENDPOINTS:
            return
        header = request.headers.get("Authorization")
        if header is None:
            raise MissingToken(
                "send your device token in the header 'Authorization: Bearer <token>'"
            )
        match = BEARER.fullmatch(header.strip())
        if match is None:
            raise MalformedToken(
                "the Authorization header must be 'Bearer ' followed by your device token"
            )
        try:
            found = self.store.find(match[1])
        except (sqlite3.Error, OSError) as error:
            log.error("reading the token store %s failed: %r", self.store.path, error)
            raise TokenStoreUnavailable("tokens cannot be checked at the moment") from error
        if found is None:
            raise UnknownToken("this token was never issued; ask for a device token")
        if found.revoked_at is not None:
            raise RevokedToken(
                f"the token of device {found.device!r} was revoked at {found.revoked_at}; "
                "ask for a new one"
            )
        g.device = found.device


def current_device() -> str | None:
    """The device whose token the current request carries; None when auth is off."""
    return g.get("device")

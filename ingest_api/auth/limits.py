"""Per-device rate limits: flask-limiter, counting in the token store's SQLite file.

Uploads (and photos to classify) and lookups each have a limit from Settings (e.g. "60/minute"),
per device, over a fixed window that starts at the device's first request in it. The counters
must be shared by gunicorn's worker processes, or each worker would count alone and a device
would get up to `workers` times its limit. flask-limiter's own shared storages are network
servers (Redis, Memcached, MongoDB) that the stack does not run. So the counters live in a table
of the SQLite file the workers already share for tokens (SqliteStorage below, a storage for the
`limits` library). Every worker sees one count per device, and the limit holds exactly. A
counter that cannot be written is logged and lets the request through: rate limiting must not
become a new way for uploads to fail.

With auth off there is no device: requests are counted by client address instead.

Every answer of a limited endpoint says where the device stands, in the three headers of the
IETF draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers, up to
version 06): RateLimit-Limit (the requests a window allows), RateLimit-Remaining (those left in
this one) and RateLimit-Reset (seconds until it ends).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import Storage

from ingest_api.auth.store import open_database
from ingest_api.auth.tokens import current_device
from ingest_api.ops.errors import HttpError
from settings import Settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "rate_limits"

# Each limited endpoint: the Settings field of its limit, and what it counts, in words. Each
# endpoint counts on its own (flask-limiter's per-route scope).
LIMITED_ENDPOINTS = {
    "ingest.post_image": ("upload_rate_limit", "uploads"),
    "classify.classify": ("upload_rate_limit", "photos to classify"),
    "records.image_record": ("lookup_rate_limit", "record look-ups"),
    "records.image_list": ("lookup_rate_limit", "photo listings"),
    "live_map.points": ("lookup_rate_limit", "map queries"),
    "live_map.thumbnail": ("lookup_rate_limit", "thumbnail requests"),
    "live_map.find": ("lookup_rate_limit", "photo searches"),
    "tensors.tensor_png": ("lookup_rate_limit", "tensor downloads"),
    "labels.correct_label": ("upload_rate_limit", "label corrections"),
    "labels.label_history": ("lookup_rate_limit", "label history look-ups"),
}

# The IETF draft's headers (see above).
LIMIT_HEADER = "RateLimit-Limit"
REMAINING_HEADER = "RateLimit-Remaining"
RESET_HEADER = "RateLimit-Reset"
HEADERS = (LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER)



class RateLimited(HttpError):
    """The answer to flask-limiter's RateLimitExceeded: the limit in words, and Retry-After the
    seconds until the breached window ends."""

    status = 429
    code = "rate_limited"
    drains_body = True
    log_level = None

    @classmethod
    def answering(cls, error: RateLimitExceeded) -> RateLimited:
        seconds = retry_after_seconds()
        ours = cls(too_many_message(error.limit.limit, seconds))
        ours.retry_after = seconds
        ours.__cause__ = error
        return ours


SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limit_counters (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at REAL NOT NULL
)
"""


class SqliteStorage(Storage):
    """Fixed-window counters in a SQLite file, shared by every process that opens it.

    One UPSERT per hit starts a new window when the key's window has ended, else adds to it,
    atomically. One connection per thread, made on first use (after gunicorn's fork).
    """

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self.path = options.pop("path")
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        (count,) = self._connection().execute(
            """
            INSERT INTO rate_limit_counters (key, count, expires_at) VALUES (?1, ?2, ?3 + ?4)
            ON CONFLICT (key) DO UPDATE SET
                count = CASE WHEN expires_at <= ?3 THEN ?2 ELSE count + ?2 END,
                expires_at = CASE WHEN expires_at <= ?3 THEN ?3 + ?4 ELSE expires_at END
            RETURNING count
            """,
            (key, amount, now, expiry),
        ).fetchone()
        return count

    def get(self, key: str) -> int:
        row = self._current(key)
        return 0 if row is None else row[0]

    def get_expiry(self, key: str) -> float:
        row = self._current(key)
        return time.time() if row is None else row[1]

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int:
        return self._connection().execute("DELETE FROM rate_limit_counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM rate_limit_counters WHERE key = ?", (key,))

    def _current(self, key: str) -> tuple[int, float] | None:
        return self._connection().execute(
            "SELECT count, expires_at FROM rate_limit_counters WHERE key = ? AND expires_at > ?",
            (key, time.time()),
        ).fetchone()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_database(self.path)
            # The counters need no fsync per hit: losing the last ones in a power cut is harmless.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(SCHEMA)
            self._local.connection = connection
        return connection


def endpoint_limits(settings: Settings) -> dict[str, str]:
    """Endpoint -> its per-device limit; refuses a limit that flask-limiter cannot read."""
    limits = {
        endpoint: getattr(settings, setting)
        for endpoint, (setting, _) in LIMITED_ENDPOINTS.items()
    }
    for limit in limits.values():
        try:
            parse_many(limit)
        except ValueError as error:
            raise ValueError(f"{limit!r} is not a rate limit such as '60/minute'") from error
    return limits


def init_rate_limits(app: Flask, settings: Settings) -> None:
    """Limit the app's upload and lookup endpoints per device (after its routes exist)."""
    limiter = Limiter(
        key_func=rate_limit_key,
        storage_uri="sqlite://",
        storage_options={"path": settings.api_token_store},
        strategy="fixed-window",
        swallow_errors=True,
    )
    limiter.init_app(app)
    for endpoint, limit in endpoint_limits(settings).items():
        app.view_functions[endpoint] = limiter.limit(limit)(app.view_functions[endpoint])
    app.extensions[EXTENSION_KEY] = limiter
    app.after_request(add_rate_limit_headers)


def rate_limit_key() -> str:
    device = current_device()
    return f"device:{device}" if device is not None else f"address:{get_remote_address()}"


def add_rate_limit_headers(response: Response) -> Response:
    """The device's standing against the limit of the request's endpoint, if it has one."""
    limit = current_app.extensions[EXTENSION_KEY].current_limit
    if limit is None:
        return response
    try:
        reset_time, remaining = limit.window
    except sqlite3.Error as error:  # like a counter that cannot be written: logged, not fatal
        log.warning("cannot read the rate limit counter of %s: %r", limit.key, error)
        return response
    response.headers[LIMIT_HEADER] = str(limit.limit.amount)
    response.headers[REMAINING_HEADER] = str(max(0, remaining))
    response.headers[RESET_HEADER] = str(max(0, math.ceil(reset_time - time.time())))
    return response


def too_many_message(limit: RateLimitItem, seconds: int) -> str:
    """The 429's sentence: "this device sent too many uploads: the limit is 60 per minute; ..." """
    _, counted = LIMITED_ENDPOINTS.get(request.endpoint, (None, "requests"))
    unit = limit.GRANULARITY.name
    window = unit if limit.multiples == 1 else f"{limit.multiples} {unit}s"
    return (f"this device sent too many {counted}: the limit is {limit.amount} per {window}; "
            f"retry in {seconds} s")


def retry_after_seconds() -> int:
    """Whole seconds until the breached limit's window ends (at least 1)."""
    limit = current_app.extensions[EXTENSION_KEY].current_limit
    if limit is None:
        return 1
    return max(1, math.ceil(limit.window.reset_time - time.time()))

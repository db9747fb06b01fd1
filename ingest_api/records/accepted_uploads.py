"""AcceptedUploads: the photos the API accepted lately, so that a 404 can say "not processed yet".

Elasticsearch knows a photo only once the stream has recorded it. Between the 202 and that
moment, GET /images/<id> would not tell a queued photo from an unknown id. So each 202 notes
its image id here, in a table of the SQLite file that gunicorn's workers already share for the
tokens and the rate limits (API_TOKEN_STORE): every worker of one host sees every other's.

Limits, by design: an id is remembered for REMEMBER_S; API processes on hosts that do not share
that file do not see each other's; a note that cannot be written is logged and the upload goes
on, since this must never become a way for uploads to fail.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from flask import Flask, current_app

from ingest_api.auth.store import open_database
from settings import Settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "accepted_uploads"
REMEMBER_S = 24 * 3600
PRUNE_EVERY = 500  # notes of one process between two deletions of the forgotten ones

SCHEMA = """
CREATE TABLE IF NOT EXISTS accepted_uploads (
    image_id    TEXT PRIMARY KEY,
    accepted_at REAL NOT NULL
)
"""


class AcceptedUploads:
    """Image ids accepted within REMEMBER_S, in the shared SQLite file at `path`."""

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._notes = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> AcceptedUploads:
        return cls(settings.api_token_store)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self

    def note(self, image_id: str) -> None:
        """Remember that `image_id` was accepted now; a failure is only logged."""
        now = time.time()
        try:
            connection = self._connection()
            connection.execute("INSERT OR REPLACE INTO accepted_uploads VALUES (?, ?)",
                               (image_id, now))
            self._notes += 1
            if self._notes % PRUNE_EVERY == 0:
                connection.execute("DELETE FROM accepted_uploads WHERE accepted_at < ?",
                                   (now - REMEMBER_S,))
        except (sqlite3.Error, OSError) as error:
            log.warning("could not note the accepted upload %s: %r", image_id, error)

    def accepted_lately(self, image_id: str) -> bool:
        """Whether `image_id` was accepted within REMEMBER_S (False when it cannot be read)."""
        try:
            row = self._connection().execute(
                "SELECT 1 FROM accepted_uploads WHERE image_id = ? AND accepted_at >= ?",
                (image_id, time.time() - REMEMBER_S),
            ).fetchone()
        except (sqlite3.Error, OSError) as error:
            log.warning("could not read the accepted uploads: %r", error)
            return False
        return row is not None

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_database(self.path)
            connection.execute("PRAGMA synchronous=NORMAL")  # a lost note costs a vaguer 404
            connection.execute(SCHEMA)
            self._local.connection = connection
        return connection


def get_accepted_uploads() -> AcceptedUploads:
    """The accepted uploads of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]

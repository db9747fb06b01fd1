"""TokenStore: the devices allowed to use the API, each token kept only as its sha256.

The store is one SQLite file (Settings.api_token_store) that only its owner can read. Every
gunicorn worker and the `tokens` CLI open the same file, so a token issued or revoked is seen
by every worker at once and survives restarts. WAL mode lets the workers read while the CLI
writes. A check needs this local file only, never Elasticsearch or S3.

A token is `secrets.token_urlsafe(32)`: 256 random bits. A plain sha256 is enough to store it.
Slow hashes (bcrypt, argon2) exist to make guessing low-entropy passwords expensive; nobody can
guess a 256-bit random value, however fast the hash. A fast hash also lets a request find its
token by an indexed lookup of the hash, so nothing compares secrets byte by byte.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from settings import Settings

TOKEN_BYTES = 32
DEVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")

# How long a statement waits for another process's write to finish before it fails.
BUSY_TIMEOUT_S = 2.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY,
    device       TEXT NOT NULL,
    issued_at    TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX IF NOT EXISTS tokens_by_device ON tokens (device);
"""


@dataclass(frozen=True)
class DeviceToken:
    """One issued token, without the token: its device, when it was issued and revoked."""

    device: str
    issued_at: str
    revoked_at: str | None


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_database(path: str | Path) -> sqlite3.Connection:
    """A connection to the SQLite file at `path`, created owner-only (0600, folder 0700).

    Autocommit (each statement is its own transaction unless BEGIN is sent), WAL journal.
    SQLite gives the -wal and -shm files the permissions of the database file.
    """
    path = Path(path)
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True)
    _create_owner_only(path)
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o600)  # by name: no descriptor of the file is opened or closed
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def _create_owner_only(path: Path) -> None:
    """Create the file empty with mode 0600 unless it exists; never open an existing one.

    POSIX locks belong to the process, and closing any descriptor of a file drops all of the
    process's locks on it. Opening and closing the file here while another thread's SQLite
    connection holds it would let a closing process delete the WAL under that connection.
    """
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TokenStore:
    """Issues, revokes, lists and finds device tokens; one connection per thread, made on use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenStore:
        return cls(settings.api_token_store)

    def issue(self, device: str) -> str:
        """A new token for `device`, which replaces (revokes) any token the device had."""
        if not DEVICE_NAME.fullmatch(device):
            raise ValueError(
                "a device name is 1 to 128 characters among A-Z a-z 0-9 . _ : @ -, "
                "starting with a letter or digit"
            )
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = now_utc()
        connection = self._connection()
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                "UPDATE tokens SET revoked_at = ? WHERE device = ? AND revoked_at IS NULL",
                (now, device),
            )
            connection.execute(
                "INSERT INTO tokens (token_sha256, device, issued_at) VALUES (?, ?, ?)",
                (token_sha256(token), device, now),
            )
        return token

    def revoke(self, device: str) -> int:
        """Revoke the device's token; how many were active (0: nothing to revoke)."""
        cursor = self._connection().execute(
            "UPDATE tokens SET revoked_at = ? WHERE device = ? AND revoked_at IS NULL",
            (now_utc(), device),
        )
        return cursor.rowcount

    def tokens(self) -> list[DeviceToken]:
        """Every token ever issued, by device then issue time."""
        rows = self._connection().execute(
            "SELECT device, issued_at, revoked_at FROM tokens ORDER BY device, issued_at, rowid"
        )
        return [DeviceToken(*row) for row in rows]

    def find(self, token: str) -> DeviceToken | None:
        """The issued token equal to `token`, revoked or not; None if it was never issued."""
        row = self._connection().execute(
            "SELECT device, issued_at, revoked_at FROM tokens WHERE token_sha256 = ?",
            (token_sha256(token),),
        ).fetchone()
        return None if row is None else DeviceToken(*row)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_database(self.path)
            connection.executescript(SCHEMA)
            self._local.connection = connection
        return connection

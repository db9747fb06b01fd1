"""`python -m ingest_api tokens issue|revoke|list`, run as an operator runs it."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ingest_api.auth.store import TokenStore
from settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.servers  # each test runs the command in a process of its own

TOKEN_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.fixture
def store_path(tmp_path) -> Path:
    return tmp_path / "state" / "auth" / "tokens.sqlite3"


@pytest.fixture
def tokens(store_path):
    """Run `python -m ingest_api tokens ARGS` with the store at store_path; the result."""
    env = {**os.environ, **Settings(api_token_store=str(store_path)).to_env()}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ingest_api", "tokens", *args],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
        )

    return run


def stored_bytes(store_path: Path) -> bytes:
    """Everything SQLite keeps for the store: the file and its journal, if any."""
    return b"".join(path.read_bytes() for path in store_path.parent.glob(store_path.name + "*"))


def test_issue_prints_the_token_alone_on_stdout(tokens):
    result = tokens("issue", "--device", "phone-17")

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    token = result.stdout.strip()
    assert len(token) >= 43 and set(token) <= TOKEN_ALPHABET
    assert "phone-17" in result.stderr and token not in result.stderr


def test_the_store_keeps_the_sha256_never_the_token_in_an_owner_only_file(tokens, store_path):
    token = tokens("issue", "--device", "phone-17").stdout.strip()

    kept = stored_bytes(store_path)
    assert hashlib.sha256(token.encode()).hexdigest().encode() in kept
    assert token.encode() not in kept
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store_path.parent.stat().st_mode) == 0o700


def test_each_issue_is_a_new_token_and_replaces_the_devices_old_one(tokens, store_path):
    first = tokens("issue", "--device", "phone-17").stdout.strip()
    second = tokens("issue", "--device", "phone-17").stdout.strip()

    store = TokenStore(store_path)
    assert first != second
    assert store.find(first).revoked_at is not None
    assert store.find(second).revoked_at is None


def test_revoke_marks_the_token_revoked_and_a_second_revoke_has_nothing_to_do(
    tokens, store_path
):
    token = tokens("issue", "--device", "phone-17").stdout.strip()

    assert tokens("revoke", "phone-17").returncode == 0
    assert TokenStore(store_path).find(token).revoked_at is not None
    again = tokens("revoke", "phone-17")
    assert again.returncode == 1 and "no active token" in again.stderr


def test_list_shows_devices_and_times_but_no_token(tokens):
    token = tokens("issue", "--device", "phone-17").stdout.strip()
    tokens("issue", "--device", "tablet-2")
    tokens("revoke", "tablet-2")

    result = tokens("list")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["device", "issued", "revoked"]
    phone, tablet = (line.split() for line in lines[1:])
    assert phone[0] == "phone-17" and phone[2] == "-"
    assert tablet[0] == "tablet-2" and tablet[2] != "-"
    assert token not in result.stdout
    assert hashlib.sha256(token.encode()).hexdigest() not in result.stdout


@pytest.mark.parametrize("device", ["", "two words", "-leading-dash", "x" * 129, "a/b"])
def test_a_device_name_outside_the_rule_is_refused_and_nothing_is_printed(tokens, device):
    result = tokens("issue", f"--device={device}")

    assert result.returncode == 2
    assert result.stdout == ""
    assert "device name" in result.stderr

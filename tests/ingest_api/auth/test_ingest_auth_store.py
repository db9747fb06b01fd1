"""The token store's file, shared by threads and processes as gunicorn's workers share it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from ingest_api.auth.store import TokenStore
from settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.servers  # each test runs the tokens command in a process of its own


def tokens_cli(store_path, *args: str) -> str:
    env = {**os.environ, **Settings(api_token_store=str(store_path)).to_env()}
    return subprocess.run(
        [sys.executable, "-m", "ingest_api", "tokens", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout


def in_another_thread(function) -> None:
    thread = threading.Thread(target=function)
    thread.start()
    thread.join()


def test_what_a_worker_writes_after_another_process_closed_the_store_is_seen_by_all(tmp_path):
    """A worker's threads each open the file; the CLI opens and closes it meanwhile.

    Opening the file with anything but SQLite in a process that has it open drops that
    process's locks, and a closing process then deletes the journal under it: the worker's
    later writes would land in a deleted file that nobody else reads.
    """
    path = tmp_path / "tokens.sqlite3"
    worker = TokenStore(path)
    first = worker.issue("first-phone")
    in_another_thread(lambda: worker.find(first))

    tokens_cli(path, "issue", "--device", "cli-phone")
    worker.issue("late-phone")

    assert "late-phone" in tokens_cli(path, "list")
    assert {token.device for token in worker.tokens()} == {
        "first-phone", "cli-phone", "late-phone"
    }


def test_a_store_the_worker_did_not_create_keeps_its_owner_only_mode(tmp_path):
    path = tmp_path / "auth" / "tokens.sqlite3"
    tokens_cli(path, "issue", "--device", "phone")
    path.chmod(0o644)

    TokenStore(path).tokens()

    assert path.stat().st_mode & 0o777 == 0o600

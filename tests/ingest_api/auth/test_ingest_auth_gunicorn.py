"""Tokens and limits under the real server: `python -m ingest_api`, gunicorn's 2 worker processes.

Tokens are issued and revoked with the CLI while the server runs, as an operator would; every
request goes out on a connection of its own, from several threads, so both workers answer.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from infra.processes import free_port
from kit.api_client import ApiClient
from settings import PROJECT_ROOT, Settings
from tests.ingest_api import gunicorn

LOOKUP_LIMIT = 20


@pytest.fixture(scope="module")
def settings(ingest_settings, tmp_path_factory) -> Settings:
    state = tmp_path_factory.mktemp("gunicorn-auth")
    return replace(
        ingest_settings,
        api_internal_port=free_port(),  # gunicorn's own port, talked to directly here
        api_token_store=str(state / "auth" / "tokens.sqlite3"),
        lookup_rate_limit=f"{LOOKUP_LIMIT}/minute",
        stack_dir=str(state),
    )


def serving(settings: Settings):
    """`python -m ingest_api` with these settings, until the block ends; its log in the state."""
    return gunicorn.serving(settings, Path(settings.stack_dir) / "gunicorn.log")


@pytest.fixture(scope="module")
def server(settings) -> Iterator[subprocess.Popen]:
    with serving(settings) as process:
        yield process


def api(settings: Settings, token: str | None = None) -> ApiClient:
    """The server, called as the device of `token` (each request on a new connection)."""
    return ApiClient(gunicorn.internal_url(settings), token)


def lookups(settings: Settings, token: str, count: int) -> Counter:
    """Statuses of `count` lookups sent from 8 threads at once."""
    device = api(settings, token)
    with ThreadPoolExecutor(8) as pool:
        answers = pool.map(lambda _: device.image("not-an-id").status, range(count))
        return Counter(answers)


def tokens(settings: Settings, *args: str) -> str:
    """Run the tokens CLI on the server's store; its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "ingest_api", "tokens", *args],
        cwd=PROJECT_ROOT, env={**os.environ, **settings.to_env()},
        capture_output=True, text=True, timeout=60, check=True,
    )
    return result.stdout.strip()


def workers_with_the_store_open(server: subprocess.Popen, store: str) -> int:
    """How many of gunicorn's worker processes hold the token store file open."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    holding = 0
    for pid in children:
        with contextlib.suppress(OSError):
            fds = Path(f"/proc/{pid}/fd")
            if any(os.readlink(fd) == store for fd in fds.iterdir()):
                holding += 1
    return holding


@pytest.mark.timeout(180)
def test_a_token_issued_while_serving_works_on_both_workers_which_count_its_limit_once(
    settings, server
):
    token = tokens(settings, "issue", "--device", "shared-phone")

    answered = lookups(settings, token, LOOKUP_LIMIT + 10)

    assert answered == {400: LOOKUP_LIMIT, 429: 10}
    assert workers_with_the_store_open(server, settings.api_token_store) == 2


@pytest.mark.timeout(180)
def test_a_token_revoked_while_serving_is_refused_by_every_worker_at_once(settings, server):
    token = tokens(settings, "issue", "--device", "lost-phone")
    assert lookups(settings, token, 4) == {400: 4}

    tokens(settings, "revoke", "lost-phone")

    assert lookups(settings, token, 8) == {403: 8}


@pytest.mark.timeout(180)
def test_tokens_and_revocations_survive_a_restart_of_the_server(settings):
    own_port = replace(settings, api_internal_port=free_port())
    with serving(own_port):
        kept = tokens(settings, "issue", "--device", "kept-phone")
        revoked = tokens(settings, "issue", "--device", "gone-phone")
        tokens(settings, "revoke", "gone-phone")
        assert lookups(own_port, kept, 2) == {400: 2}

    with serving(own_port):
        assert lookups(own_port, kept, 4) == {400: 4}
        assert lookups(own_port, revoked, 4) == {403: 4}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("megabytes", [8, 25])
def test_an_anonymous_upload_sent_whole_before_the_answer_is_read_gets_its_json_401(
    settings, server, megabytes
):
    """The body is read and dropped, as for a 413: closing on unread data would reset it."""
    boundary = "auth-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n\r\n'
        .encode() + b"\xff\xd8\xff" + bytes(megabytes << 20) + f"\r\n--{boundary}--\r\n".encode()
    )

    answer = api(settings).request("POST", "/post_image", body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})

    assert (answer.status, answer.json().get("error")) == (401, "missing_token")

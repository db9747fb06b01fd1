"""The stack dir's state and logs are readable by their owner only (infra/private.py)."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from infra.elasticsearch_server import ElasticsearchServer
from infra.private import STACK_DIR_MODE, UNPRIVILEGED, private_dir
from infra.stack import LocalStack

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")


@pytest.fixture
def stack_dir():
    """A stack dir in /tmp, which every user may pass through, like the default .stack's."""
    folder = Path(tempfile.mkdtemp(prefix="private-stack-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def broker_stack(own_broker, stack_dir):
    """A broker of `stack_dir`, running."""
    settings = replace(own_broker, stack_dir=str(stack_dir))
    LocalStack(settings).up(["kafka"])
    yield settings
    LocalStack(settings).down()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_stack_dir_may_be_passed_through_and_what_is_in_it_is_owner_only(broker_stack):
    stack_dir = Path(broker_stack.stack_dir)

    assert mode(stack_dir) == STACK_DIR_MODE == 0o711
    entries = list(stack_dir.iterdir())
    assert entries
    for entry in entries:
        assert mode(entry) & 0o077 == 0, f"{entry} is {oct(mode(entry))}"
    log = stack_dir / "kafka" / "kafka.log"
    assert log.stat().st_size > 0


@as_root
def test_another_user_can_read_no_log_nor_state_of_the_stack(broker_stack):
    stack_dir = Path(broker_stack.stack_dir)
    files = [path for path in stack_dir.rglob("*") if path.is_file()]
    assert files
    user, group = UNPRIVILEGED
    for path in [stack_dir, *files]:
        attempt = subprocess.run(
            ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", "cat", str(path)],
            capture_output=True,
        )
        assert attempt.returncode != 0 and b"Permission denied" in attempt.stderr, path


@as_root
def test_elasticsearch_gets_its_folder_owner_only_and_refuses_nameless_deletes(
    stack_dir, stack_settings
):
    settings = replace(stack_settings, stack_dir=str(stack_dir))
    server = ElasticsearchServer(settings)
    stack_dir.chmod(STACK_DIR_MODE)

    private_dir(server.home)  # as Server.up makes it
    server.prepare()

    home = server.home.stat()
    assert (home.st_uid, mode(server.home)) == (pwd.getpwnam(UNPRIVILEGED[0]).pw_uid, 0o700)
    config = server.home / "config" / "elasticsearch.yml"
    assert "action.destructive_requires_name: true" in config.read_text().splitlines()
    assert mode(config) == 0o600


"""kit/launcher.py: a server's own starter (infra/server.py's command and readiness check) run as
a child process, in supervisord's clean environment and a process group of its own.

The server here is Python's http.server on a free port, a real process with a real port, whose
command adds a child (a worker) to its group, as gunicorn and Spark do.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from infra.processes import NotReady, free_port, port_open
from infra.server import Server
from kit.launcher import kill, launch, running, stop
from kit.stack import isolated_settings

pytestmark = pytest.mark.servers  # it starts processes of its own

# A server that starts a worker (sleep) in its group, notes the worker's pid and the variables
# it was given, then serves HTTP until stopped.
SERVE = """
import http.server, json, os, subprocess, sys
worker = subprocess.Popen(["sleep", "600"])
json.dump({"worker": worker.pid, "env": dict(os.environ)}, open(sys.argv[2], "w"))
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler
                       ).serve_forever()
"""


class TinyServer(Server):
    """http.server as an infra Server: its command, and ready once it answers."""

    name = "tiny"
    start_timeout = 20.0

    def __init__(self, settings, port: int, facts: Path, script: str = SERVE):
        super().__init__(settings)
        self.port, self.facts, self.script = port, facts, script

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-c", self.script, str(self.port), str(self.facts)], {
            "TINY_SETTING": "from the starter"}

    def is_ready(self) -> bool:
        with urllib.request.urlopen(self.url, timeout=2) as response:
            return response.status == 200


@pytest.fixture
def server(tmp_path):
    return TinyServer(isolated_settings("launcher-test-"), free_port(), tmp_path / "facts.json")


def facts(server: TinyServer) -> dict:
    """What the server's process noted as it started: its worker's pid, its environment."""
    deadline = time.monotonic() + 10
    while not server.facts.exists() or not server.facts.read_text().endswith("}"):
        assert time.monotonic() < deadline, "the server noted nothing"
        time.sleep(0.05)
    return json.loads(server.facts.read_text())


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def gone(pid: int) -> bool:
    """Whether the process ends within 5 s (a signal takes a moment to land)."""
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_a_running_server_is_ready_in_the_block_and_gone_with_its_workers_after(server, tmp_path):
    with running(server, tmp_path / "tiny.log") as process:
        assert server.is_ready()
        worker = facts(server)["worker"]
        assert alive(worker) and os.getpgid(worker) == process.pid
    assert not port_open("127.0.0.1", server.port)
    assert gone(worker), "the server's worker outlived it"


def test_the_server_gets_its_starters_environment_and_not_the_callers(server, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv("CALLERS_SHELL_ONLY", "1")
    with running(server, tmp_path / "tiny.log", env={"EXTRA": "added"}):
        env = facts(server)["env"]
    assert env["TINY_SETTING"] == "from the starter" and env["EXTRA"] == "added"
    assert "CALLERS_SHELL_ONLY" not in env
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"  # supervisord's clean environment


def test_kill_takes_the_whole_group_at_once_as_a_crash_would(server, tmp_path):
    process = launch(server, tmp_path / "tiny.log")
    worker = facts(server)["worker"]
    kill(process)
    assert process.returncode == -9 and gone(worker)


def test_a_server_that_exits_while_starting_is_not_ready_and_its_log_says_why(server, tmp_path):
    broken = TinyServer(server.settings, server.port, server.facts,
                        script="raise SystemExit('no configuration found')")
    with pytest.raises(NotReady, match="no configuration found"), \
            running(broken, tmp_path / "broken.log"):
        pass


def test_stop_is_graceful_first(server, tmp_path):
    process = launch(server, tmp_path / "tiny.log")
    stop(process)
    assert process.returncode == -15  # SIGTERM ended it; SIGKILL was not needed

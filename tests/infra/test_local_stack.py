"""LocalStack starts each server once, under its stack dir's supervisord, which starts a server
that dies again by itself; it reports them, and stops only what its stack dir started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from infra.kafka_broker import KafkaBroker
from infra.processes import NotReady, port_open
from infra.stack import LocalStack
from settings import PROJECT_ROOT


def statuses(stack: LocalStack) -> dict:
    return {status.name: status for status in stack.status()}


def test_a_second_up_keeps_the_running_servers(own_broker):
    stack = LocalStack(own_broker)
    assert stack.up(["kafka"]) == ["kafka"]
    pid = statuses(stack)["kafka"].pid

    assert stack.up(["kafka"]) == []
    assert statuses(stack)["kafka"].pid == pid


def test_status_reports_running_then_stopped_after_down(own_broker):
    stack = LocalStack(own_broker)
    stack.up(["kafka"])
    running = statuses(stack)
    assert running["kafka"].running and running["kafka"].pid is not None
    assert running["kafka"].url == own_broker.kafka_bootstrap_servers

    assert stack.down() == ["kafka"]
    after = statuses(stack)
    assert not after["kafka"].running and after["kafka"].pid is None
    assert not port_open(*stack.servers["kafka"].address)


def test_down_leaves_servers_this_stack_dir_did_not_start(own_broker):
    stack = LocalStack(own_broker)
    stack.up(["kafka"])  # needs S3, which answers already, started by the session

    assert stack.status(["s3"])[0].pid is None
    stack.down()
    assert stack.status(["s3"])[0].running


def test_the_cli_prints_one_status_line_per_server(own_broker):
    env = {
        **os.environ,
        "STACK_DIR": own_broker.stack_dir,
        "KAFKA_BOOTSTRAP_SERVERS": own_broker.kafka_bootstrap_servers,
    }
    result = subprocess.run(
        [sys.executable, "-m", "infra", "status", "kafka"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["kafka", "stopped", own_broker.kafka_bootstrap_servers]


def test_a_server_that_dies_is_started_again_by_the_stack_s_supervisor(own_broker):
    stack = LocalStack(own_broker)
    stack.up(["kafka"])
    broker = stack.servers["kafka"]
    killed = broker.process.pid()

    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while broker.process.pid() in (None, killed) or not port_open(*broker.address):
        assert time.monotonic() < deadline, "the broker was not started again"
        time.sleep(0.5)

    assert broker.is_ready()
    assert str(statuses(stack)["kafka"]).split()[:3] == ["kafka", "running", "(pid"]


class BrokenBroker(KafkaBroker):
    """A server whose command fails at once, as a bad configuration would."""

    def command(self):
        return ["sh", "-c", "echo 'bad config: no such option' >&2; exit 3"], {}


def test_a_server_that_exits_at_start_fails_up_with_its_log_and_is_not_left_restarting(
    own_broker,
):
    broken = BrokenBroker(own_broker)

    with pytest.raises(NotReady, match="the process exited") as failure:
        broken.up()

    assert "bad config: no such option" in str(failure.value)
    assert broken.process.state() is None and not broken.status().running

"""LocalStack starts each server once, reports it, and stops only what its stack dir started."""

from __future__ import annotations

import os
import subprocess
import sys

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

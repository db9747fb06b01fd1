"""`python -m infra up spark`: a Spark standalone master and its workers on 127.0.0.1, run by the
stack dir's supervisord like every other server, shown by status and stopped by down."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

from infra.processes import free_port, free_port_block, port_open
from infra.spark_cluster import alive_worker_ui_ports, master_state
from infra.stack import LocalStack
from settings import Settings


def test_the_master_has_two_alive_workers_of_one_core_and_the_memory_of_the_settings(
    spark_cluster,
):
    state = master_state(spark_cluster)
    assert state["status"] == "ALIVE"
    assert state["url"] == spark_cluster.spark_master
    workers = [worker for worker in state["workers"] if worker["state"] == "ALIVE"]
    assert len(workers) == 2
    assert {(worker["cores"], worker["memory"]) for worker in workers} == {(1, 1024)}
    assert {worker["host"] for worker in workers} == {"127.0.0.1"}


def test_status_shows_the_master_with_its_ui_and_each_worker(spark_cluster):
    (status,) = LocalStack(spark_cluster).status(["spark"])
    assert status.running and status.pid is not None
    assert [worker.running for worker in status.workers] == [True, True]
    text = str(status)
    assert spark_cluster.spark_master in text
    assert f"http://127.0.0.1:{spark_cluster.spark_master_ui_port}" in text
    assert f"http://127.0.0.1:{spark_cluster.spark_worker_ui_port + 1}" in text


def test_a_killed_worker_is_started_again_and_registers_with_the_master(spark_cluster):
    worker = LocalStack(spark_cluster).servers["spark"].workers[1]
    killed = worker.process.pid()
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while not (worker.process.pid() not in (None, killed)
               and len(alive_worker_ui_ports(spark_cluster)) == 2
               and worker.is_ready()):
        assert time.monotonic() < deadline, worker.process.log_tail()
        time.sleep(0.5)


def test_a_second_up_starts_nothing_and_down_stops_the_workers_then_the_master(
    stack_settings, tmp_path
):
    master_port = free_port()
    settings = replace(stack_settings, stack_dir=str(tmp_path), spark_workers=1,
                       spark_master_port=master_port, spark_master_ui_port=free_port(),
                       spark_worker_ui_port=free_port_block(2))
    stack = LocalStack(settings)
    try:
        assert stack.up(["spark"]) == ["spark"]
        assert stack.up(["spark"]) == []
        assert alive_worker_ui_ports(settings) == {settings.spark_worker_ui_port}
    finally:
        assert stack.down(["spark"]) == ["spark"]
    (status,) = stack.status(["spark"])
    assert not status.running and not status.workers[0].running
    assert not port_open("127.0.0.1", master_port)


def test_infra_up_starts_the_cluster_when_named_or_when_the_stream_runs_on_it():
    local, on_cluster = Settings(), Settings(spark_master="spark://127.0.0.1:7077")
    assert "spark" not in LocalStack(local).start_order()
    assert "spark" not in LocalStack(local).start_order(["stream"])
    assert LocalStack(local).start_order(["spark"]) == ["spark"]
    order = LocalStack(on_cluster).start_order(["stream"])
    assert order.index("spark") < order.index("stream")
    assert "spark" in LocalStack(on_cluster).start_order()

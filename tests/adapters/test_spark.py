"""The jobs' SparkSession: its workers run the settings' interpreter, and starting it leaves the
process environment as it found it."""

from __future__ import annotations

import os
import sys

import pytest

from adapters.spark import launch_environment, spark_session
from infra.processes import free_port
from settings import Settings


@pytest.mark.servers  # starts a Spark session
def test_the_workers_run_this_interpreter_and_the_environment_is_left_as_it_was(monkeypatch):
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)
    session = spark_session("adapters-tests",
                            Settings(spark_master="local[1]", spark_ui_port=free_port()))
    try:
        workers = session.sparkContext.parallelize([0], 1).map(lambda _: sys.executable).collect()

        assert workers == [sys.executable]
        assert "PYSPARK_PYTHON" not in os.environ and "SPARK_LOCAL_IP" not in os.environ
    finally:
        session.stop()


def test_the_launch_environment_is_restored_even_when_the_start_fails(monkeypatch):
    monkeypatch.setenv("SPARK_LOCAL_IP", "10.0.0.1")
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)

    with pytest.raises(RuntimeError), launch_environment(
        {"SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": "/usr/bin/python3"}
    ):
        assert os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"
        raise RuntimeError("the JVM did not start")

    assert os.environ["SPARK_LOCAL_IP"] == "10.0.0.1" and "PYSPARK_PYTHON" not in os.environ

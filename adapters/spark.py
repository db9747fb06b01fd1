"""The SparkSession of both jobs, for image rows (megabytes each, not bytes), in local mode or
on a cluster: its driver and executors configured from Settings."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from pyspark.sql import SparkSession

from settings import PROJECT_ROOT, Settings

LOG4J_JSON = PROJECT_ROOT / "adapters" / "log4j2-json.properties"
# Arrow's default of 10,000 rows per batch would build multi-GB batches of photos.
ROWS_PER_ARROW_BATCH = 16


def spark_session(
    app_name: str, settings: Settings, *, progress_bar: bool = False, json_logs: bool = False
) -> SparkSession:
    """A session on settings.spark_master whose Python workers, in local mode or on a cluster's
    executors, run settings.spark_python (or this interpreter) and can import the project.

    progress_bar shows Spark's stage progress on the console: for a long batch run in a terminal,
    not for a service's log. json_logs makes the driver JVM's log lines JSON too, as a service's
    (LOG4J_JSON); it takes effect only in a process whose JVM this call starts.
    """
    builder = SparkSession.builder.appName(app_name).master(settings.spark_master)
    for key, value in session_config(settings, progress_bar).items():
        builder = builder.config(key, value)
    if json_logs:
        builder = builder.config("spark.driver.extraJavaOptions",
                                 f"-Dlog4j2.configurationFile={LOG4J_JSON}")
    # The UI binds to SPARK_LOCAL_IP (else 0.0.0.0): loopback unless the process says otherwise.
    local_ip = {} if "SPARK_LOCAL_IP" in os.environ else {"SPARK_LOCAL_IP": "127.0.0.1"}
    with launch_environment({"PYSPARK_PYTHON": settings.spark_python or sys.executable,
                             **local_ip}):
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session


@contextlib.contextmanager
def launch_environment(variables: dict[str, str]) -> Iterator[None]:
    """os.environ with `variables` while the session starts, then as it was.

    pyspark takes two things from the environment alone: the workers' interpreter
    (PYSPARK_PYTHON, read as the context starts) and the driver JVM's (a copy of os.environ, as
    it launches the JVM). Set for the start only, they reach both and leak nowhere else.
    """
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def session_config(settings: Settings, progress_bar: bool = False) -> dict[str, str]:
    """Spark's configuration for the settings; empty settings (0 cores) are left to Spark."""
    chosen = {
        "spark.driver.host": settings.spark_driver_host,
        "spark.driver.bindAddress": settings.spark_driver_bind_address,
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.executor.memory": settings.spark_executor_memory,
        "spark.executor.cores": settings.spark_executor_cores or "",
    }
    return {
        **{key: str(value) for key, value in chosen.items() if value},
        "spark.executorEnv.PYTHONPATH": str(PROJECT_ROOT),
        "spark.python.daemon.module": "adapters.spark_daemon",  # workers log JSON lines
        "spark.ui.port": str(settings.spark_ui_port),
        "spark.ui.showConsoleProgress": str(progress_bar).lower(),
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(ROWS_PER_ARROW_BATCH),
        "spark.sql.shuffle.partitions": "8",
    }

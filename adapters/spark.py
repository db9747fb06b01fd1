"""A local-friendly SparkSession for image rows (megabytes each, not bytes)."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from settings import PROJECT_ROOT

# Arrow's default of 10,000 rows per batch would build multi-GB batches of photos.
ROWS_PER_ARROW_BATCH = 16


def spark_session(app_name: str, master: str, *, progress_bar: bool = False) -> SparkSession:
    """A session whose Python workers use this interpreter and can import the project.

    progress_bar shows Spark's stage progress on the console: for a long batch run in a terminal,
    not for a service's log.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    paths = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    session = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "2g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", str(progress_bar).lower())
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ROWS_PER_ARROW_BATCH))
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("WARN")
    return session

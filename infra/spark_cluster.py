"""A Spark standalone cluster from pyspark's own distribution: a master and its workers on
127.0.0.1, each a `spark-class` process in the foreground under the stack dir's supervisord."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

from infra.server import Server, ServerStatus
from settings import Settings

SPARK_HOME = Path(pyspark.__file__).parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"


def spark_env() -> dict[str, str]:
    """What spark-class needs: the distribution, Java, and loopback for every socket."""
    env = {"SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_NO_DAEMONIZE": "1", "JAVA_HOME": os.environ.get("JAVA_HOME", "")}
    return {key: value for key, value in env.items() if value}


def master_state(settings: Settings) -> dict:
    """The master's own account (its web UI's /json/): status, workers, applications."""
    url = f"http://127.0.0.1:{settings.spark_master_ui_port}/json/"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def alive_worker_ui_ports(settings: Settings) -> set[int]:
    """The web UI ports of the workers the master counts as alive."""
    return {int(worker["webuiaddress"].rsplit(":", 1)[1])
            for worker in master_state(settings)["workers"] if worker["state"] == "ALIVE"}


class SparkMaster(Server):
    """The standalone master on Settings.spark_master_port; ready once its UI says ALIVE."""

    name = "spark-master"

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.settings.spark_master_port}"

    def command(self) -> tuple[list[str], dict[str, str]]:
        argv = [str(SPARK_CLASS), "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", str(self.settings.spark_master_port),
                "--webui-port", str(self.settings.spark_master_ui_port)]
        return argv, spark_env()

    def is_ready(self) -> bool:
        return master_state(self.settings)["status"] == "ALIVE"


class SparkWorker(Server):
    """Worker `number` (1, 2, ...) with Settings.spark_worker_cores and _memory, its web UI on
    Settings.spark_worker_ui_port + number - 1; ready once the master counts it alive.

    Its executors' scratch space and logs are in its folder, work/.
    """

    def __init__(self, settings: Settings, number: int):
        self.name = f"spark-worker-{number}"
        self.ui_port = settings.spark_worker_ui_port + number - 1
        super().__init__(settings)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    def command(self) -> tuple[list[str], dict[str, str]]:
        master = f"spark://127.0.0.1:{self.settings.spark_master_port}"
        argv = [str(SPARK_CLASS), "org.apache.spark.deploy.worker.Worker", master,
                "--host", "127.0.0.1", "--cores", str(self.settings.spark_worker_cores),
                "--memory", self.settings.spark_worker_memory,
                "--webui-port", str(self.ui_port), "--work-dir", str(self.home / "work")]
        return argv, spark_env()

    def is_ready(self) -> bool:
        return self.ui_port in alive_worker_ui_ports(self.settings)


@dataclass(frozen=True)
class ClusterStatus(ServerStatus):
    """The master's status line, then one line per worker."""

    workers: list[ServerStatus] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join([super().__str__(), *(f"  {worker}" for worker in self.workers)])


class SparkCluster:
    """The master and Settings.spark_workers workers, started and stopped as one server.

    `python -m infra up spark` starts it; the jobs use it when SPARK_MASTER is its url.
    """

    name = "spark"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.master = SparkMaster(settings)
        self.workers = [SparkWorker(settings, n + 1) for n in range(settings.spark_workers)]

    @property
    def url(self) -> str:
        return self.master.url

    def up(self) -> bool:
        """Start the master, then each worker, unless running; True if any was started here."""
        started = [server.up() for server in (self.master, *self.workers)]
        return any(started)

    def down(self) -> bool:
        """Stop the workers, then the master; True if any was running."""
        stopped = [server.down() for server in (*reversed(self.workers), self.master)]
        return any(stopped)

    def status(self) -> ClusterStatus:
        master = self.master.status()
        ui = f"http://127.0.0.1:{self.settings.spark_master_ui_port}"
        return ClusterStatus(self.name, master.running, master.pid, f"{self.url} (UI {ui})",
                             master.supervisor, [worker.status() for worker in self.workers])

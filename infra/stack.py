"""The local stack as a whole: which servers, in which order, and the schemas they carry."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from infra.app_services import IngestApi, StreamingJob
from infra.elasticsearch_server import ElasticsearchServer
from infra.kafka_broker import KafkaBroker
from infra.mlflow_server import MlflowServer
from infra.monitoring.alert_log import AlertLog
from infra.monitoring.alertmanager import Alertmanager
from infra.monitoring.blackbox import BlackboxExporter
from infra.monitoring.prometheus import Prometheus
from infra.nginx import Nginx
from infra.private import restrict_stack_dir
from infra.schemas import apply_schemas
from infra.seaweedfs import SeaweedFS
from infra.server import Server, ServerStatus
from infra.spark_cluster import SparkCluster
from settings import Settings

SERVERS: dict[str, type[Server] | type[SparkCluster]] = {
    "s3": SeaweedFS,
    "kafka": KafkaBroker,
    "es": ElasticsearchServer,
    "mlflow": MlflowServer,
    "api": IngestApi,
    "nginx": Nginx,
    "spark": SparkCluster,
    "stream": StreamingJob,
    "alertlog": AlertLog,
    "alertmanager": Alertmanager,
    "blackbox": BlackboxExporter,
    "prometheus": Prometheus,
}
NEEDS = {
    "kafka": {"s3"},
    "mlflow": {"s3"},
    "api": {"kafka", "es"},
    "nginx": {"api"},
    "stream": {"kafka", "s3", "es"},
    "alertmanager": {"alertlog"},
    "prometheus": {"alertmanager", "blackbox"},
}
# Started only when named, or when a server needs it: the stream needs the cluster once
# SPARK_MASTER is its url.
ON_REQUEST = {"spark"}


class LocalStack:
    """The servers of one stack dir (Settings.stack_dir), started in dependency order."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.servers = {name: server(settings) for name, server in SERVERS.items()}

    def up(self, components: Iterable[str] | None = None) -> list[str]:
        """Start what is not running (with what it needs), wait until ready, apply the schemas.

        Returns the names of the servers this call started, for a caller that stops only those.
        The stack dir's state and logs stay readable by their owner only (infra/private.py).
        """
        stack_dir = Path(self.settings.stack_dir)
        restrict_stack_dir(stack_dir)
        started = []
        try:
            for name in self.start_order(components):
                if self.servers[name].up():
                    started.append(name)
                apply_schemas(self.settings, [name])  # before the services that need them start
        finally:
            restrict_stack_dir(stack_dir)  # what the servers made next to their folders
        return started

    def start_order(self, components: Iterable[str] | None = None) -> list[str]:
        """What `up(components)` starts: those named (all but ON_REQUEST by default) and what
        they need, in order. The stream needs the Spark cluster when SPARK_MASTER is its url."""
        wanted = [name for name in _select(components)
                  if components is not None or name not in ON_REQUEST]
        needs = NEEDS
        if self.settings.spark_master == self.servers["spark"].url:
            needs = {**NEEDS, "stream": NEEDS["stream"] | {"spark"}}
        return _with_needs(wanted, needs)

    def optional(self) -> list[str]:
        """The servers the pipeline runs without (the Spark cluster, unless SPARK_MASTER is its
        url): `up()` leaves them out, and a status shows them apart."""
        core = self.start_order()
        return [name for name in SERVERS if name not in core]

    def down(self, components: Iterable[str] | None = None) -> list[str]:
        """Stop the servers recorded in this stack dir, dependants first; return those stopped."""
        names = reversed(_select(components))
        return [name for name in names if self.servers[name].down()]

    def status(self, components: Iterable[str] | None = None) -> list[ServerStatus]:
        """Whether each server runs, its pid if this stack dir started it, and its url."""
        return [self.servers[name].status() for name in _select(components)]


def _select(components: Iterable[str] | None) -> list[str]:
    wanted = set(SERVERS if components is None else components)
    unknown = wanted - set(SERVERS)
    if unknown:
        raise ValueError(f"unknown servers {sorted(unknown)}; choose from {list(SERVERS)}")
    return [name for name in SERVERS if name in wanted]


def _with_needs(names: list[str], needs: dict[str, set[str]]) -> list[str]:
    """`names` and everything they need, directly or through another, in start order."""
    wanted: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(needs.get(name, ()))
    return [name for name in SERVERS if name in wanted]

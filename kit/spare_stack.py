"""A stack of the streaming job's own beside the shared one, so its servers can be stopped.

S3 (SeaweedFS on a block of free ports: S3, then its side ports), the broker and Elasticsearch
listen on free ports and keep their state in a stack dir of their own; the streaming job runs
there as the native deploy runs it, under that stack dir's supervisord. Used by the outage
tests and by bench/outage_drill.py.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import replace

from adapters.s3 import make_s3_client
from infra.app_services import StreamingJob
from infra.elasticsearch_server import ElasticsearchServer
from infra.kafka_broker import KafkaBroker
from infra.processes import free_port, free_port_block, free_ports_at
from infra.schemas import apply_schemas, remove_bucket
from infra.seaweedfs import SIDE_PORTS, SeaweedFS
from infra.server import Server
from kit.stack import isolated_settings
from settings import Settings


class SpareStack:
    """Own S3, broker, Elasticsearch and the streaming job, on free ports, in a new stack dir.

    `broker_on_own_s3`: the broker keeps its log on this stack's S3, as in a deployment (an S3
    outage is then a Kafka outage too); otherwise on `base`'s S3, so that stopping this S3
    takes away only the job's dataset store.
    """

    ORDER = ("s3", "kafka", "es", "stream")

    def __init__(self, base: Settings, *, broker_on_own_s3: bool):
        suffix = uuid.uuid4().hex[:8]
        s3_port = free_port_block(1 + len(SIDE_PORTS))
        self.settings = isolated_settings(
            "spare-stack-", base,
            s3=replace(base.s3, endpoint_url=f"http://127.0.0.1:{s3_port}"),
            kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
            kafka_log_bucket=f"kafka-log-spare-{suffix}",
            elasticsearch_url=f"http://127.0.0.1:{free_ports_at((0, 100))}",  # HTTP, transport
            kafka_topic=f"spare-{suffix}",
            kafka_partitions=3,  # the field messages' partitions
            dataset_root=f"s3://spare-{suffix}/dataset",
            spark_master="local[2]",
            n_variants=1,
        )
        self.broker_settings = self.settings if broker_on_own_s3 else replace(
            self.settings, s3=base.s3)
        self.servers: dict[str, Server] = {
            "s3": SeaweedFS(self.settings),
            "kafka": KafkaBroker(self.broker_settings),
            "es": ElasticsearchServer(self.settings),
            "stream": StreamingJob(self.settings),
        }

    def up(self, *names: str) -> None:
        """Start the named servers (all by default) in dependency order, with their schemas."""
        for name in self.ORDER:
            if name in (names or self.ORDER):
                self.servers[name].up()
                if name != "stream":
                    apply_schemas(self.settings, [name])

    def down(self, *names: str) -> None:
        """Stop the named servers (all by default), dependants first."""
        for name in reversed(self.ORDER):
            if name in (names or self.ORDER):
                self.servers[name].down()

    def close(self) -> None:
        """Stop everything and remove the stack dir, and the broker's log bucket if shared."""
        self.down()
        if self.broker_settings is not self.settings:
            remove_bucket(make_s3_client(self.broker_settings.s3), self.settings.kafka_log_bucket)
        shutil.rmtree(self.settings.stack_dir, ignore_errors=True)

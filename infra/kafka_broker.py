"""Tansu, a Kafka-compatible broker whose log lives durably in a bucket of the local S3."""

from __future__ import annotations

from kafka import KafkaAdminClient

from adapters.s3 import make_s3_client
from infra.processes import port_open
from infra.programs import tansu_binary
from infra.schemas import ensure_bucket
from infra.server import Server


class KafkaBroker(Server):
    """The broker on the port of Settings.kafka_bootstrap_servers, storing s3://<kafka_log_bucket>/.

    Needs the S3 server up first: the bucket is created before the broker starts.
    """

    name = "kafka"

    @property
    def url(self) -> str:
        return self.settings.kafka_bootstrap_servers.split(",")[0]

    def prepare(self) -> None:
        ensure_bucket(make_s3_client(self.settings.s3), self.settings.kafka_log_bucket)

    def command(self) -> tuple[list[str], dict[str, str]]:
        host, port = self.address
        argv = [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://{host}:{port}",
            "--storage-engine",
            f"s3://{self.settings.kafka_log_bucket}/",
        ]
        s3 = self.settings.s3
        env = {
            "AWS_ACCESS_KEY_ID": s3.access_key,
            "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "AWS_DEFAULT_REGION": s3.region,
            "AWS_ENDPOINT": s3.endpoint_url,
            "AWS_ALLOW_HTTP": "true",
        }
        return argv, env

    def is_ready(self) -> bool:
        """Metadata can be fetched, which is what every Kafka client does first."""
        if not port_open(*self.address):
            return False
        admin = KafkaAdminClient(
            bootstrap_servers=self.url, client_id="infra-probe", request_timeout_ms=5000
        )
        try:
            admin.list_topics()
        finally:
            admin.close()
        return True

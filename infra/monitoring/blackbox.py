"""The blackbox exporter (Debian's prometheus-blackbox-exporter): Prometheus asks it, at every
scrape, whether Kafka, S3, Elasticsearch and MLflow answer, so an outage shows within minutes
even while no photo comes in and no batch runs.

Kafka is probed by a TCP connection (its port accepts one only while the broker runs); S3 and
Elasticsearch by an HTTP request that any answer of theirs passes (200, or 401/403 for a request
without credentials, which the compose stack's MinIO and Elasticsearch 8 give); MLflow by its
/health, which answers without credentials.
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

from infra.programs import debian_binary
from infra.server import Server
from settings import Settings

TCP, HTTP_ANSWERS, HTTP_OK = "tcp_connect", "http_answers", "http_2xx"
PROBE_TIMEOUT_S = 5


def modules(timeout_s: float) -> dict:
    """The exporter's blackbox.yml: the three kinds of probe."""
    http = {"preferred_ip_protocol": "ip4"}
    return {"modules": {
        TCP: {"prober": "tcp", "timeout": f"{timeout_s}s",
              "tcp": {"preferred_ip_protocol": "ip4"}},
        HTTP_ANSWERS: {"prober": "http", "timeout": f"{timeout_s}s",
                       "http": {**http, "valid_status_codes": [200, 401, 403]}},
        HTTP_OK: {"prober": "http", "timeout": f"{timeout_s}s", "http": http},
    }}


def probes(settings: Settings) -> list[tuple[str, str, str]]:
    """(server, target, module) for each server the pipeline depends on."""
    kafka = settings.kafka_bootstrap_servers.split(",")[0]
    mlflow = settings.mlflow_tracking_uri.rstrip("/")
    return [
        ("kafka", kafka, TCP),
        ("s3", settings.s3.endpoint_url.rstrip("/") + "/", HTTP_ANSWERS),
        ("elasticsearch", settings.elasticsearch_url.rstrip("/") + "/", HTTP_ANSWERS),
        ("mlflow", f"{mlflow}/health", HTTP_OK),
    ]


def probe_timeout(settings: Settings) -> float:
    """A probe must end before Prometheus' scrape of it times out (at the scrape interval)."""
    return min(PROBE_TIMEOUT_S, max(settings.prometheus_scrape_interval_s - 0.5, 0.5))


class BlackboxExporter(Server):
    """prometheus-blackbox-exporter on 127.0.0.1:<blackbox_port>."""

    name = "blackbox"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.blackbox_port}"

    def prepare(self) -> None:
        config = json.dumps(modules(probe_timeout(self.settings)), indent=2)  # JSON is YAML
        (self.home / "blackbox.yml").write_text(config)

    def command(self) -> tuple[list[str], dict[str, str]]:
        return [
            str(debian_binary("prometheus-blackbox-exporter")),
            f"--config.file={self.home / 'blackbox.yml'}",
            f"--web.listen-address={urlsplit(self.url).netloc}",
        ], {}

    def is_ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/healthy", timeout=5) as response:
            return response.status == 200

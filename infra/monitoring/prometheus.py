"""Prometheus (Debian's prometheus) on 127.0.0.1:<prometheus_port>, its configuration made from
the Settings at each start: it scrapes the API's /metrics and the streaming job's, asks the
blackbox exporter about Kafka, S3, Elasticsearch and MLflow, evaluates the rules of
ALERT_RULES (infra/monitoring/alerts.yml) and hands what fires to Alertmanager.

MLflow 3's server exposes no metrics unless started with `--expose-prometheus` and
prometheus-flask-exporter, which its venv does not carry: Prometheus only probes its /health.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from infra.monitoring.alertmanager import Alertmanager
from infra.monitoring.blackbox import BlackboxExporter, probes
from infra.programs import debian_binary
from infra.server import Server
from settings import PROJECT_ROOT, Settings

DEPENDENCIES_JOB = "dependencies"
QUERY_TIMEOUT_S = 3


def render_config(settings: Settings) -> dict:
    """prometheus.yml: global intervals, the rules, Alertmanager and three scrape jobs."""
    interval = f"{settings.prometheus_scrape_interval_s}s"
    blackbox = urlsplit(BlackboxExporter(settings).url).netloc
    return {
        "global": {"scrape_interval": interval, "scrape_timeout": interval,
                   "evaluation_interval": interval},
        "rule_files": [str(rules_path(settings))],
        "alerting": {"alertmanagers": [{"static_configs": [
            {"targets": [urlsplit(Alertmanager(settings).url).netloc]}]}]},
        "scrape_configs": [
            {"job_name": "ingest_api", "static_configs": [
                {"targets": [f"{settings.api_host}:{settings.api_internal_port}"]}]},
            {"job_name": "stream", "static_configs": [
                {"targets": [f"127.0.0.1:{settings.stream_metrics_port}"]}]},
            {"job_name": DEPENDENCIES_JOB, "metrics_path": "/probe", "static_configs": [
                {"targets": [target], "labels": {"server": server, "__param_module": module}}
                for server, target, module in probes(settings)],
             "relabel_configs": [
                 {"source_labels": ["__address__"], "target_label": "__param_target"},
                 {"source_labels": ["__param_target"], "target_label": "instance"},
                 {"target_label": "__address__", "replacement": blackbox}]},
        ],
    }


class Prometheus(Server):
    """prometheus on 127.0.0.1:<prometheus_port>; its data in its folder (15 days kept)."""

    name = "prometheus"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.prometheus_port}"

    def prepare(self) -> None:
        config = json.dumps(render_config(self.settings), indent=2)  # JSON is YAML
        (self.home / "prometheus.yml").write_text(config)

    def command(self) -> tuple[list[str], dict[str, str]]:
        return [
            str(debian_binary("prometheus")),
            f"--config.file={self.home / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.home / 'data'}",
            f"--web.listen-address={urlsplit(self.url).netloc}",
            "--web.enable-lifecycle",
        ], {}

    def is_ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as response:
            return response.status == 200


def firing_alerts(settings: Settings) -> list[dict]:
    """The alerts firing now, from Prometheus' API (OSError when it does not answer)."""
    url = f"{Prometheus(settings).url}/api/v1/alerts"
    with urllib.request.urlopen(url, timeout=QUERY_TIMEOUT_S) as response:
        alerts = json.load(response)["data"]["alerts"]
    return [alert for alert in alerts if alert["state"] == "firing"]


def rules_path(settings: Settings) -> Path:
    """ALERT_RULES, relative to the project unless absolute."""
    return PROJECT_ROOT / settings.alert_rules

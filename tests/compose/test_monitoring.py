"""Monitoring in docker-compose.yml, read as a specification: Prometheus, the blackbox exporter
and Alertmanager are configured as infra/monitoring/ configures the native stack, with the
compose services' addresses, and load the same alert rules. Not run: there is no Docker here."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest
import yaml

from infra.monitoring import alertmanager, blackbox, prometheus
from infra.programs import debian_binary
from settings import PROJECT_ROOT, Settings

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
CONFIGS = PROJECT_ROOT / "infra" / "compose"
PROMETHEUS_YML = CONFIGS / "prometheus" / "prometheus.yml"
# The servers as the pipeline's containers reach them (test_compose_file.py checks those).
COMPOSE_ADDRESSES = replace(
    Settings(), kafka_bootstrap_servers="kafka:9092",
    s3=replace(Settings().s3, endpoint_url="http://minio:9000"),
    elasticsearch_url="http://elasticsearch:9200", mlflow_tracking_uri="http://mlflow:5000")


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


@pytest.fixture(scope="module")
def compose_prometheus() -> dict:
    return yaml.safe_load(PROMETHEUS_YML.read_text())


def jobs(config: dict) -> dict[str, dict]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_prometheus_loads_the_native_stacks_rules_file(services, compose_prometheus):
    mounts = services["prometheus"]["volumes"]
    assert "./infra/monitoring/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts
    assert compose_prometheus["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_prometheus_scrapes_and_probes_what_the_native_one_does(compose_prometheus):
    native = prometheus.render_config(Settings())
    assert compose_prometheus["global"] == native["global"]
    assert jobs(compose_prometheus).keys() == jobs(native).keys()
    assert jobs(compose_prometheus)["ingest_api"]["static_configs"] == [
        {"targets": ["api:8001"]}]
    assert jobs(compose_prometheus)["stream"]["static_configs"] == [
        {"targets": [f"streaming:{Settings().stream_metrics_port}"]}]
    probes = jobs(compose_prometheus)["dependencies"]
    native_probes = jobs(native)["dependencies"]
    assert probes["static_configs"] == jobs(prometheus.render_config(COMPOSE_ADDRESSES))[
        "dependencies"]["static_configs"]
    assert probes["relabel_configs"][:2] == native_probes["relabel_configs"][:2]
    assert probes["relabel_configs"][2]["replacement"] == "blackbox:9115"


def test_the_stream_serves_its_metrics_on_the_compose_network_unpublished(services):
    stream = services["streaming"]
    assert stream["environment"]["STREAM_METRICS_HOST"] == "0.0.0.0"
    assert "ports" not in stream


def test_the_probes_are_the_native_ones():
    compose = yaml.safe_load((CONFIGS / "prometheus" / "blackbox.yml").read_text())
    assert compose == blackbox.modules(blackbox.PROBE_TIMEOUT_S)


def test_alertmanager_routes_as_the_native_one_to_the_alert_log_service(services):
    compose = yaml.safe_load((CONFIGS / "alertmanager" / "alertmanager.yml").read_text())
    assert compose["route"] == alertmanager.render_config(Settings())["route"]
    assert compose["receivers"][0]["webhook_configs"] == [
        {"url": "http://alertlog:9095/alerts", "send_resolved": True}]
    assert "--cluster.listen-address=" in services["alertmanager"]["command"]
    assert "9095" in services["alertlog"]["command"]


def test_promtool_accepts_the_compose_configuration(tmp_path):
    config = PROMETHEUS_YML.read_text().replace(
        "/etc/prometheus/alerts.yml", str(PROJECT_ROOT / "infra" / "monitoring" / "alerts.yml"))
    (tmp_path / "prometheus.yml").write_text(config)
    checked = subprocess.run([str(debian_binary("promtool")), "check", "config",
                              str(tmp_path / "prometheus.yml")],
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr

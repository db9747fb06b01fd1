"""The outage drill on real servers: a broker of the test's own stops, Prometheus' probe of it
fails, DependencyDown fires, reaches Alertmanager, the alert log and `./deploy.sh status`; the
broker starts again and the alert resolves, in the log too.

Monitoring runs on free ports in the broker's stack dir, scraping every second with the shipped
rules' `for:` cut to 2 s (the default timing is proven by the promtool tests, test_alert_rules.py).
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from infra.monitoring.alert_log import AlertLog
from infra.monitoring.prometheus import firing_alerts
from infra.processes import free_port
from infra.stack import LocalStack
from infra.status_report import alert_lines
from settings import PROJECT_ROOT

RULES = PROJECT_ROOT / "infra" / "monitoring" / "alerts.yml"
WAIT_S = 60


@pytest.fixture
def watched_broker(own_broker, tmp_path):
    """A broker of its own, up, watched by Prometheus, Alertmanager, the blackbox exporter and
    the alert log on free ports, with fast scrapes and 2 s `for:` durations."""
    fast_rules = tmp_path / "alerts-fast.yml"
    fast_rules.write_text(re.sub(r"for: \d+m", "for: 2s", RULES.read_text()))
    settings = replace(
        own_broker,
        prometheus_port=free_port(), alertmanager_port=free_port(),
        blackbox_port=free_port(), alert_log_port=free_port(),
        prometheus_scrape_interval_s=1, alert_rules=str(fast_rules),
    )
    LocalStack(settings).up(["kafka", "prometheus"])
    return settings


def query(settings, promql: str) -> list[dict]:
    url = (f"http://127.0.0.1:{settings.prometheus_port}/api/v1/query?"
           + urllib.parse.urlencode({"query": promql}))
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


def alertmanager_alerts(settings) -> list[dict]:
    url = f"http://127.0.0.1:{settings.alertmanager_port}/api/v2/alerts"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def logged(settings) -> list[dict]:
    log = Path(settings.stack_dir) / AlertLog.name / "alerts.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def eventually(check, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {WAIT_S} s: {what}")


def kafka_down(alert: dict) -> bool:
    labels = alert["labels"]
    return labels["alertname"] == "DependencyDown" and labels["server"] == "kafka"


def test_a_stopped_broker_fires_an_alert_that_reaches_the_log_and_resolves(watched_broker):
    settings = watched_broker
    eventually(lambda: query(settings, 'probe_success{server="kafka"} == 1'),
               "Prometheus' probe reaches the broker")
    assert not any(kafka_down(alert) for alert in firing_alerts(settings))

    LocalStack(settings).down(["kafka"])

    firing = eventually(lambda: [a for a in firing_alerts(settings) if kafka_down(a)],
                        "DependencyDown fires in Prometheus")
    assert firing[0]["labels"]["instance"] == settings.kafka_bootstrap_servers
    eventually(lambda: [a for a in alertmanager_alerts(settings) if kafka_down(a)],
               "Alertmanager holds it")
    line = eventually(lambda: [e for e in logged(settings)
                               if kafka_down(e) and e["status"] == "firing"],
                      "the alert log records it firing")[0]
    assert line["annotations"]["summary"] == (
        f"kafka does not answer at {settings.kafka_bootstrap_servers}")
    status = "\n".join(alert_lines(settings))
    assert "DependencyDown (critical, since " in status
    assert f"kafka does not answer at {settings.kafka_bootstrap_servers}" in status

    LocalStack(settings).up(["kafka"])

    eventually(lambda: [e for e in logged(settings)
                        if kafka_down(e) and e["status"] == "resolved"],
               "the alert log records it resolved")
    assert not any(kafka_down(alert) for alert in firing_alerts(settings))


def test_status_says_in_one_line_when_prometheus_does_not_answer(stack_settings):
    settings = replace(stack_settings, prometheus_port=free_port())

    lines = list(alert_lines(settings))

    assert len(lines) == 1
    assert lines[0].startswith(
        f"  alerts        unknown: Prometheus does not answer at "
        f"http://127.0.0.1:{settings.prometheus_port} (")

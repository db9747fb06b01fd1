"""Monitoring of a test's own servers, on free ports and fast: Prometheus scraping every second
with the shipped rules' `for:` cut to 2 s and their windows to 20 s, Alertmanager, the blackbox
exporter and the alert log, in the stack dir of the settings given. Used by the outage drills."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

from infra.monitoring.alert_log import LOG_NAME, AlertLog
from infra.monitoring.prometheus import firing_alerts, rules_path
from infra.processes import free_port
from settings import Settings

WAIT_S = 90


def fast_monitoring(settings: Settings, folder: Path) -> Settings:
    """`settings` with monitoring on free ports, 1 s scrapes and fast rules written in folder."""
    rules = rules_path(settings).read_text()
    fast = re.sub(r"\[\d+m\]", "[20s]", re.sub(r"for: \d+m", "for: 2s", rules))
    (folder / "alerts-fast.yml").write_text(fast)
    return replace(
        settings,
        prometheus_port=free_port(), alertmanager_port=free_port(),
        blackbox_port=free_port(), alert_log_port=free_port(),
        prometheus_scrape_interval_s=1, alert_rules=str(folder / "alerts-fast.yml"),
    )


def query(settings: Settings, promql: str) -> list[dict]:
    url = (f"http://127.0.0.1:{settings.prometheus_port}/api/v1/query?"
           + urllib.parse.urlencode({"query": promql}))
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


def alertmanager_alerts(settings: Settings) -> list[dict]:
    url = f"http://127.0.0.1:{settings.alertmanager_port}/api/v2/alerts"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def logged(settings: Settings) -> list[dict]:
    """The alert log's lines so far."""
    log = Path(settings.stack_dir) / AlertLog.name / LOG_NAME
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def named(alert: dict, alertname: str, **labels: str) -> bool:
    found = alert["labels"]
    return found["alertname"] == alertname and all(found.get(k) == v for k, v in labels.items())


def firing(settings: Settings, alertname: str, **labels: str) -> list[dict]:
    return [alert for alert in firing_alerts(settings) if named(alert, alertname, **labels)]


def in_log(settings: Settings, status: str, alertname: str, **labels: str) -> list[dict]:
    return [line for line in logged(settings)
            if line["status"] == status and named(line, alertname, **labels)]


def eventually(check, what: str, timeout: float = WAIT_S):
    """check()'s first true answer, polled every 0.5 s; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s: {what}")

"""The outage drill on real servers: a broker of the test's own stops, Prometheus' probe of it
fails, DependencyDown fires, reaches Alertmanager, the alert log and `./deploy.sh status`; the
broker starts again and the alert resolves, in the log too.

Monitoring runs on free ports in the broker's stack dir, fast (watching.py); the default
timing is proven by the promtool tests (test_alert_rules.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra.processes import free_port
from infra.stack import LocalStack
from infra.status_report import alert_lines
from tests.infra.monitoring.watching import (
    alertmanager_alerts,
    eventually,
    fast_monitoring,
    firing,
    in_log,
    named,
    query,
)


@pytest.fixture
def watched_broker(own_broker, tmp_path):
    """A broker of its own, up and watched."""
    settings = fast_monitoring(own_broker, tmp_path)
    LocalStack(settings).up(["kafka", "prometheus"])
    return settings


def test_a_stopped_broker_fires_an_alert_that_reaches_the_log_and_resolves(watched_broker):
    settings, kafka = watched_broker, {"server": "kafka"}
    eventually(lambda: query(settings, 'probe_success{server="kafka"} == 1'),
               "Prometheus' probe reaches the broker")
    assert not firing(settings, "DependencyDown", **kafka)

    LocalStack(settings).down(["kafka"])

    [alert] = eventually(lambda: firing(settings, "DependencyDown", **kafka),
                         "DependencyDown fires in Prometheus")
    assert alert["labels"]["instance"] == settings.kafka_bootstrap_servers
    eventually(lambda: [a for a in alertmanager_alerts(settings)
                        if named(a, "DependencyDown", **kafka)], "Alertmanager holds it")
    line = eventually(lambda: in_log(settings, "firing", "DependencyDown", **kafka),
                      "the alert log records it firing")[0]
    assert line["annotations"]["summary"] == (
        f"kafka does not answer at {settings.kafka_bootstrap_servers}")
    status = "\n".join(alert_lines(settings))
    assert "DependencyDown (critical, since " in status
    assert f"kafka does not answer at {settings.kafka_bootstrap_servers}" in status

    LocalStack(settings).up(["kafka"])

    eventually(lambda: in_log(settings, "resolved", "DependencyDown", **kafka),
               "the alert log records it resolved")
    assert not firing(settings, "DependencyDown", **kafka)


def test_status_says_in_one_line_when_prometheus_does_not_answer(stack_settings):
    settings = replace(stack_settings, prometheus_port=free_port())

    lines = list(alert_lines(settings))

    assert len(lines) == 1
    assert lines[0].startswith(
        f"  alerts        unknown: Prometheus does not answer at "
        f"http://127.0.0.1:{settings.prometheus_port} (")

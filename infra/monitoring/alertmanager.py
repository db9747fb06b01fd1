"""Alertmanager (Debian's prometheus-alertmanager): Prometheus hands it the alerts, it posts
each one, firing and again once resolved, to the alert log (infra/monitoring/alert_log.py) and,
when ALERT_WEBHOOK_URL is set, to that webhook too.

No cluster (`--cluster.listen-address=` empty: one instance; otherwise it opens a gossip port
on 0.0.0.0). Alerts are grouped by name and what they are about; a new group waits
min(10 s, the scrape interval) for its companions, then changes go out every 4 scrape intervals
(1 min by default).
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

from infra.monitoring.alert_log import AlertLog
from infra.programs import debian_binary
from infra.server import Server
from settings import Settings

GROUP_BY = ["alertname", "job", "server", "service", "signal"]


def render_config(settings: Settings) -> dict:
    """alertmanager.yml: one route, to the alert log and the optional webhook."""
    interval = settings.prometheus_scrape_interval_s
    hooks = [f"{AlertLog(settings).url}/alerts", settings.alert_webhook_url]
    return {
        "route": {
            "receiver": "pipeline",
            "group_by": GROUP_BY,
            "group_wait": f"{min(10, interval)}s",
            "group_interval": f"{4 * interval}s",
            "repeat_interval": "4h",
        },
        "receivers": [{
            "name": "pipeline",
            "webhook_configs": [{"url": url, "send_resolved": True} for url in hooks if url],
        }],
    }


class Alertmanager(Server):
    """prometheus-alertmanager on 127.0.0.1:<alertmanager_port>; its state in its folder."""

    name = "alertmanager"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.alertmanager_port}"

    def prepare(self) -> None:
        config = json.dumps(render_config(self.settings), indent=2)  # JSON is YAML
        (self.home / "alertmanager.yml").write_text(config)

    def command(self) -> tuple[list[str], dict[str, str]]:
        return [
            str(debian_binary("prometheus-alertmanager")),
            f"--config.file={self.home / 'alertmanager.yml'}",
            f"--storage.path={self.home / 'data'}",
            f"--web.listen-address={urlsplit(self.url).netloc}",
            "--cluster.listen-address=",
        ], {}

    def is_ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as response:
            return response.status == 200

"""The receiver of Alertmanager's webhook: each alert it posts, firing or resolved, becomes one
JSON line of <stack_dir>/alertlog/alerts.log.

Alertmanager has no file receiver of its own; this is the smallest that gives the stack a local
record of every alert whatever else ALERT_WEBHOOK_URL adds. Run as
`python -m infra.monitoring.alert_log --port P --file F` under the stack's supervisord.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from infra.server import Server
from settings import PROJECT_ROOT

LOG_NAME = "alerts.log"


def alert_lines(notification: dict, received_at: datetime) -> list[str]:
    """One JSON line per alert of an Alertmanager webhook notification."""
    return [json.dumps({
        "received_at": received_at.isoformat(timespec="seconds"),
        "status": alert["status"],
        "alertname": alert["labels"].get("alertname"),
        "labels": alert["labels"],
        "annotations": alert.get("annotations", {}),
        "starts_at": alert.get("startsAt"),
        "ends_at": alert.get("endsAt"),
    }) + "\n" for alert in notification.get("alerts", [])]


def serve(host: str, port: int, log_file: Path) -> None:
    """Answer POST (a notification: appended) and GET (readiness) on `host`:`port`."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                lines = alert_lines(json.loads(body), datetime.now(UTC))
            except (ValueError, KeyError, TypeError, AttributeError):
                self.send_error(400, "not an Alertmanager webhook notification")
                return
            with lock, log_file.open("a") as out:
                out.writelines(lines)
            self.send_response(204)
            self.end_headers()

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            """Quiet: the alerts are the log."""

    ThreadingHTTPServer((host, port), Handler).serve_forever()


class AlertLog(Server):
    """The receiver on 127.0.0.1:<alert_log_port>, writing <stack_dir>/alertlog/alerts.log."""

    name = "alertlog"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.alert_log_port}"

    @property
    def log_file(self) -> Path:
        return self.home / LOG_NAME

    def command(self) -> tuple[list[str], dict[str, str]]:
        argv = [sys.executable, "-m", "infra.monitoring.alert_log",
                "--port", str(self.settings.alert_log_port), "--file", str(self.log_file)]
        return argv, {"PYTHONPATH": str(PROJECT_ROOT)}

    def is_ready(self) -> bool:
        with urllib.request.urlopen(self.url, timeout=5) as response:
            return response.status == 200


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.monitoring.alert_log")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 in a container")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.file)


if __name__ == "__main__":
    main()

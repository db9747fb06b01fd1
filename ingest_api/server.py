"""The API under gunicorn, bound to Settings.api_host:api_port: `python -m ingest_api`."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from ingest_api import create_app
from settings import Settings

# Two processes of four threads each: uploads mostly wait on Kafka's acknowledgement.
GUNICORN_OPTIONS = {
    "worker_class": "gthread",
    "workers": 2,
    "threads": 4,
    "timeout": 30,
    # gunicorn 27 otherwise opens ~/.gunicorn/gunicorn.ctl, which a second server would share.
    "control_socket_disable": True,
}


class IngestServer(BaseApplication):
    """gunicorn with its options from Settings, not from the command line."""

    def __init__(self, settings: Settings, options: dict | None = None):
        self.settings = settings
        self.options = {
            "bind": f"{settings.api_host}:{settings.api_port}",
            **GUNICORN_OPTIONS,
            **(options or {}),
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        # Called in each worker after the fork: every worker builds its own app and producer.
        return create_app(self.settings)


def main() -> None:
    IngestServer(Settings.from_env()).run()

"""The API under gunicorn: `python -m ingest_api`, on Settings.api_host:api_internal_port.

gunicorn is not the public front: its gthread workers read each request on a thread of a
small pool, so slow clients would hold those threads. nginx (infra/nginx.py on the native
stack, the `front` service in compose) listens on Settings.api_host:api_port, buffers every
request whole and hands it on here.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from ingest_api import create_app
from ingest_api.image_records import MAX_INDEX_CALLS
from ingest_api.publisher import MAX_KAFKA_CALLS
from settings import Settings

# Two processes; uploads mostly wait on Kafka's acknowledgement. Each process has threads for
# its Kafka and Elasticsearch slots (ingest_api/guard.py) and as many again for everything
# else, so /is_alive finds a free thread whatever Kafka and Elasticsearch are doing.
GUNICORN_OPTIONS = {
    "worker_class": "gthread",
    "workers": 2,
    "threads": 2 * (MAX_KAFKA_CALLS + MAX_INDEX_CALLS),
    "timeout": 30,
    # gunicorn 27 otherwise opens ~/.gunicorn/gunicorn.ctl, which a second server would share.
    "control_socket_disable": True,
}


class IngestServer(BaseApplication):
    """gunicorn with its options from Settings, not from the command line."""

    def __init__(self, settings: Settings, options: dict | None = None):
        self.settings = settings
        self.options = {
            "bind": f"{settings.api_host}:{settings.api_internal_port}",
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

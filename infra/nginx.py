"""nginx from Debian, the API's public front: it buffers every request before gunicorn sees it.

gunicorn's gthread workers read a request on one of a few threads, with no read timeout, so
a handful of clients sending a byte a second would hold them all. nginx reads headers and
bodies itself, event-driven, with timeouts, and hands gunicorn only whole requests: slow
clients cost nginx a connection each, never a gunicorn thread.
"""

from __future__ import annotations

import json
import os
import urllib.request

from werkzeug.exceptions import NotFound

from infra.private import UNPRIVILEGED, hand_over, private_dir, write_private
from infra.programs import nginx_binary
from infra.server import Server
from ingest_api import FORM_OVERHEAD_BYTES
from ingest_api.auth.cors import ANY_ORIGIN, allowed_origins
from ingest_api.ops.errors import FRONT_UNAVAILABLE, RETRY_AFTER_SECONDS, too_large_message
from settings import Settings

# Request bodies over CLIENT_BODY_BUFFER go to temporary files, not memory; a client that
# stays silent for a TIMEOUT (between two reads or writes, or for its whole header) is dropped.
CLIENT_BODY_BUFFER = "256k"
TIMEOUTS = {
    "client_header_timeout": "10s",
    "client_body_timeout": "10s",
    "send_timeout": "10s",
    "keepalive_timeout": "15s",
    "proxy_connect_timeout": "2s",
    "proxy_send_timeout": "10s",
    # longer than a request can take in gunicorn, whose workers are recycled after 30 s
    "proxy_read_timeout": "35s",
}
WORKER_CONNECTIONS = 4096


def body_limit(settings: Settings) -> int:
    """The largest request nginx passes on: the API's own limit (Flask's MAX_CONTENT_LENGTH)."""
    return settings.max_upload_bytes + FORM_OVERHEAD_BYTES


# The request id nginx hands the API (X-Request-ID): the client's if well formed, as the API
# itself takes it (ingest_api/ops/request_ids.py), else nginx's own. nginx's own answers carry it.
REQUEST_ID = "$api_request_id"


def error_bodies(settings: Settings) -> dict[int, dict]:
    """The JSON nginx answers with itself, shaped like the API's own errors."""
    return {
        413: {
            "error": "too_large",
            "message": too_large_message(settings.max_upload_bytes),
            "request_id": REQUEST_ID,
        },
        404: {
            "error": "not_found",
            "message": NotFound.description,  # as the API's own 404s say it
            "request_id": REQUEST_ID,
        },
        503: {
            "error": FRONT_UNAVAILABLE,
            "message": "the service is restarting; retry in a few seconds",
            "request_id": REQUEST_ID,
        },
    }


# nginx's own answers name an allowed origin as the API's do (ingest_api/auth/cors.py), so that a
# page on that origin can read them; an empty value adds no header.
CORS_ORIGIN = "$cors_allowed_origin"
CORS_EXPOSED = "X-Request-ID, Retry-After"


def cors_map(settings: Settings) -> str:
    """The map from the request's Origin to the Access-Control-Allow-Origin of nginx's answers."""
    origins = allowed_origins(settings.cors_origins)
    default = ANY_ORIGIN if ANY_ORIGIN in origins else ""
    lines = "".join(f"        {_quoted(origin)} $http_origin;\n"
                    for origin in sorted(origins - {ANY_ORIGIN}))
    return f"""    map $http_origin {CORS_ORIGIN} {{
        default "{default}";
{lines}    }}
"""


def render_config(settings: Settings, home, temp, worker_user: tuple[str, str] | None) -> str:
    """nginx.conf: in the foreground, every path in `home` or `temp`, one server for the API."""
    bodies = {code: _quoted(compact_json(body)) for code, body in error_bodies(settings).items()}
    timeouts = "".join(f"    {name} {value};\n" for name, value in TIMEOUTS.items())
    user = f"user {worker_user[0]} {worker_user[1]};\n" if worker_user else ""
    cors = cors_map(settings)
    own_answer = (
        "default_type application/json;\n"
        f"            add_header X-Request-ID {REQUEST_ID} always;\n"
        f"            add_header Access-Control-Allow-Origin {CORS_ORIGIN} always;\n"
        f'            add_header Access-Control-Expose-Headers "{CORS_EXPOSED}" always;'
    )
    host = settings.api_host
    return f"""# Rendered by infra/nginx.py at each start; edits are lost.
daemon off;
{user}worker_processes 1;
worker_rlimit_nofile {2 * WORKER_CONNECTIONS};
pid {home}/master.pid;
error_log stderr warn;

events {{
    worker_connections {WORKER_CONNECTIONS};
}}

http {{
    server_tokens off;
    map $http_x_request_id {REQUEST_ID} {{
        "~^[A-Za-z0-9._-]{{8,64}}$" $http_x_request_id;
        default $request_id;
    }}
{cors}    log_format timed '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                     'request $request_time s, upstream $upstream_response_time s, '
                     'id {REQUEST_ID}';
    access_log {home}/access.log timed;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;

    client_max_body_size {body_limit(settings)};
    client_body_buffer_size {CLIENT_BODY_BUFFER};
{timeouts}
    proxy_request_buffering on;
    proxy_buffering on;

    server {{
        listen {host}:{settings.api_port};

        location / {{
            proxy_pass http://{host}:{settings.api_internal_port};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID {REQUEST_ID};
        }}

        # Operators' metrics are read on gunicorn's internal port, never from the public one.
        location = /metrics {{
            {own_answer}
            return 404 {bodies[404]};
        }}

        error_page 413 @too_large;
        location @too_large {{
            {own_answer}
            return 413 {bodies[413]};
        }}

        error_page 502 504 =503 @unavailable;
        location @unavailable {{
            {own_answer}
            add_header Retry-After {RETRY_AFTER_SECONDS} always;
            return 503 {bodies[503]};
        }}
    }}
}}
"""


def compact_json(body: dict) -> str:
    """JSON as Flask's jsonify writes it, so nginx's errors read like the API's."""
    return json.dumps(body, separators=(",", ":"))


def _quoted(text: str) -> str:
    """`text` as one single-quoted nginx string."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Nginx(Server):
    """nginx on Settings.api_host:api_port, in front of gunicorn on api_internal_port.

    It runs in the foreground (`daemon off`), so the pid file of this stack dir is its master.
    Config, logs and pid live in <stack_dir>/nginx/; request bodies in transit in
    <stack_dir>/nginx-temp/, which belongs to the workers' user. Started as root, the master
    keeps root only to bind and open logs; its workers run as nobody.
    """

    name = "nginx"
    start_timeout = 30.0

    @property
    def url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    @property
    def temp(self):
        return self.home.parent / "nginx-temp"

    def prepare(self) -> None:
        private_dir(self.temp)
        worker_user = UNPRIVILEGED if os.geteuid() == 0 else None
        if worker_user is not None:
            hand_over(self.temp)
        config = render_config(self.settings, self.home, self.temp, worker_user)
        write_private(self.home / "nginx.conf", config)

    def command(self) -> tuple[list[str], dict[str, str]]:
        config = self.home / "nginx.conf"
        return [str(nginx_binary()), "-p", str(self.home), "-c", str(config), "-e", "stderr"], {}

    def is_ready(self) -> bool:
        """The API answers through nginx."""
        with urllib.request.urlopen(f"{self.url}/is_alive", timeout=5) as response:
            return response.status == 200

"""MLflow's tracking server and model registry, behind basic auth, its artifacts on the stack's S3.

It runs from a venv of its own (infra/programs.py: full mlflow clashes with the project's pins;
the project's code talks to it through mlflow-skinny). Its backend store is a SQLite file in
<stack_dir>/mlflow/; run artifacts are proxied to s3://<mlflow_bucket>/artifacts/, so clients
need the server's credentials only, never S3's. One uvicorn worker and no job runner: two
processes of ~0.5 GB instead of fifteen of ~2.9 GB (../shared/LOCAL_STACK.md).

Basic auth: the project's credentials (Settings.mlflow_username/password) are the server's
admin, created with that password the first time the server starts on a fresh auth database.
The Flask secret key is made once and kept in the server's folder; the auth ini names its
database by an absolute path (the default is relative to the working directory).
"""

from __future__ import annotations

import base64
import secrets
import urllib.request

from adapters.s3 import make_s3_client
from infra.private import write_private
from infra.processes import port_open
from infra.programs import mlflow_binary
from infra.schemas import ensure_bucket
from infra.server import Server

ARTIFACTS_PREFIX = "artifacts"
SECRET_KEY_FILE = "flask_secret_key"
AUTH_INI = "basic_auth.ini"
PROBE_TIMEOUT_S = 5
AUTH_CACHE_S = 60


def auth_ini(database: str, admin: str) -> str:
    """The auth app's configuration: its users' database, its admin, READ for new users.

    A credential checked once is trusted for AUTH_CACHE_S: each check is a PBKDF2 hash, about
    190 ms of the server's CPU, and without the cache every request paid it (a registration's
    30 requests took 6 s). With one worker, a password changed through the API takes effect
    at once; one changed in the database behind its back, within AUTH_CACHE_S."""
    return "\n".join([
        "[mlflow]",
        "default_permission = READ",
        f"database_uri = {database}",
        f"admin_username = {admin}",
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth",
        "grant_default_workspace_access = false",
        f"auth_cache_ttl_seconds = {AUTH_CACHE_S}",
        "",
    ])


def basic_auth_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class MlflowServer(Server):
    """`mlflow server` on 127.0.0.1:<mlflow_port>; needs the S3 server up (its bucket is made
    before it starts)."""

    name = "mlflow"
    start_timeout = 90.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.mlflow_port}"

    def prepare(self) -> None:
        ensure_bucket(make_s3_client(self.settings.s3), self.settings.mlflow_bucket)
        secret = self.home / SECRET_KEY_FILE
        if not secret.exists():  # the same key on every start: sessions outlive a restart
            write_private(secret, secrets.token_hex(32))
        write_private(self.home / AUTH_INI, auth_ini(f"sqlite:///{self.home / 'basic_auth.db'}",
                                                     self.settings.mlflow_username))

    def command(self) -> tuple[list[str], dict[str, str]]:
        s3 = self.settings.s3
        argv = [
            str(mlflow_binary()), "server",
            "--backend-store-uri", f"sqlite:///{self.home / 'mlflow.db'}",
            "--artifacts-destination",
            f"s3://{self.settings.mlflow_bucket}/{ARTIFACTS_PREFIX}",
            "--host", "127.0.0.1",
            "--port", str(self.settings.mlflow_port),
            "--workers", "1",
            "--app-name", "basic-auth",
        ]
        env = {
            "HOME": str(self.home),
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "MLFLOW_AUTH_CONFIG_PATH": str(self.home / AUTH_INI),
            "MLFLOW_AUTH_ADMIN_PASSWORD": self.settings.mlflow_password,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": (self.home / SECRET_KEY_FILE).read_text(),
            "MLFLOW_S3_ENDPOINT_URL": s3.endpoint_url,
            "AWS_ACCESS_KEY_ID": s3.access_key,
            "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "AWS_DEFAULT_REGION": s3.region,
        }
        return argv, env

    def is_ready(self) -> bool:
        """An authenticated read of the registry: the server, its store and our credentials work
        (/health answers before the auth app, and without credentials)."""
        if not port_open(*self.address):
            return False
        request = urllib.request.Request(
            f"{self.url}/api/2.0/mlflow/registered-models/search?max_results=1",
            headers={"Authorization": basic_auth_header(self.settings.mlflow_username,
                                                        self.settings.mlflow_password)},
        )
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:
            return response.status == 200

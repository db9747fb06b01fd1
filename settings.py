"""The pipeline's configuration, read from the environment in one place and passed down.

Every variable is documented in .env.example; the defaults match the local stack that
infra/ starts on 127.0.0.1, so nothing needs setting to run on one machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class S3Settings:
    """Where s3:// dataset roots live: MinIO in compose, SeaweedFS on the native stack."""

    endpoint_url: str = "http://127.0.0.1:8333"
    access_key: str = "pipeline"
    secret_key: str = "pipeline-secret"
    region: str = "us-east-1"


@dataclass(frozen=True)
class Settings:
    """Everything the API, the jobs and the stack need to know about their surroundings."""

    s3: S3Settings = field(default_factory=S3Settings)
    dataset_root: str = "s3://field-images/dataset"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic: str = "field-images"
    kafka_partitions: int = 2  # one per core of the stream's Spark (docs/scaling.md)
    kafka_source: str = "python"
    kafka_log_bucket: str = "kafka-log"
    elasticsearch_url: str = "http://127.0.0.1:9200"
    elasticsearch_index: str = "field-images"
    elasticsearch_username: str = ""
    elasticsearch_password: str = ""
    n_variants: int = 4
    split_fractions: str = "0.8,0.1,0.1"  # train, val, test: see dataset/splits.py
    max_pixels: int = 100_000_000
    max_decode_mb: int = 512
    max_upload_bytes: int = 20 * 1024 * 1024
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_internal_port: int = 8001
    api_workers: int = 2  # gunicorn worker processes (ingest_api/server.py)
    api_decode_budget_mb: int = 640
    api_decode_wait_s: float = 1.0
    auth: bool = True
    api_token_store: str = str(PROJECT_ROOT / ".stack" / "auth" / "tokens.sqlite3")
    upload_rate_limit: str = "60/minute"
    lookup_rate_limit: str = "600/minute"
    cors_origins: str = ""  # origins whose pages may call the API, comma-separated; * for any
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tile_attribution: str = "&copy; OpenStreetMap contributors"
    spark_master: str = "local[*]"  # or a cluster: docs/spark_cluster.md
    # Empty driver/executor values (0 cores) leave the choice to Spark or to spark-submit.
    spark_driver_host: str = "127.0.0.1"  # the address executors reach the driver at
    spark_driver_bind_address: str = "127.0.0.1"
    spark_driver_memory: str = "2g"
    spark_executor_memory: str = "1g"
    spark_executor_cores: int = 1
    spark_python: str = ""  # the executors' Python; empty: the interpreter running the driver
    spark_ui_port: int = 4040  # the job's web UI (Spark takes the next free port when taken)
    # `python -m infra up spark`: a standalone master and its workers on 127.0.0.1
    spark_master_port: int = 7077
    spark_master_ui_port: int = 8090
    spark_workers: int = 2
    spark_worker_cores: int = 1
    spark_worker_memory: str = "1g"
    spark_worker_ui_port: int = 8091  # the first worker's web UI; the next ones follow it
    checkpoint_dir: str = str(PROJECT_ROOT / ".stack" / "checkpoints" / "streaming")
    stream_metrics_port: int = 8002  # the stream's Prometheus metrics
    stream_metrics_host: str = "127.0.0.1"  # 0.0.0.0 in a container, for Prometheus beside it
    stream_raw_copies: bool = True  # the stream copies processed photos' bytes to raw/
    drift_window: int = 300  # the stream's drift compares its last N photos with the champion's
    # The MLflow tracking server and model registry (infra/mlflow_server.py, docs/model.md):
    # the port it listens on natively, the url clients use, the project's credentials for it,
    # and the bucket of the stack's S3 holding its artifacts and the history of its aliases.
    mlflow_port: int = 5000
    mlflow_tracking_uri: str = "http://127.0.0.1:5000"
    mlflow_username: str = "pipeline"
    mlflow_password: str = "pipeline-mlflow-secret"
    mlflow_bucket: str = "mlflow"
    model_name: str = "crop-classifier"  # the registered model the API and the jobs serve
    model_cache_dir: str = str(PROJECT_ROOT / ".stack" / "models")  # downloaded ONNX files
    model_refresh_s: float = 10.0  # how often a running server asks who the champion is
    # Monitoring (infra/monitoring/, docs/operations.md "Alerts"): Prometheus, Alertmanager, the
    # blackbox exporter probing the servers and the receiver writing alerts to a file, on
    # 127.0.0.1; Alertmanager also posts each alert to ALERT_WEBHOOK_URL when set.
    prometheus_port: int = 9090
    alertmanager_port: int = 9093
    blackbox_port: int = 9115
    alert_log_port: int = 9095
    alert_webhook_url: str = ""
    prometheus_scrape_interval_s: int = 15  # scrapes, probes and rule evaluations
    alert_rules: str = str(PROJECT_ROOT / "infra" / "monitoring" / "alerts.yml")
    stack_dir: str = str(PROJECT_ROOT / ".stack")

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        """Build settings from environment variables, falling back to the defaults above."""
        env = os.environ if env is None else env
        s3 = _read(S3Settings(), S3_VARIABLES, env)
        return replace(_read(cls(), VARIABLES, env), s3=s3)

    @property
    def elasticsearch_auth(self) -> tuple[str, str] | None:
        """(username, password) for Elasticsearch, or None for a server without security."""
        if not self.elasticsearch_username:
            return None
        return self.elasticsearch_username, self.elasticsearch_password

    def to_env(self) -> dict[str, str]:
        """The environment variables that make from_env rebuild these settings in a child."""
        return {
            **{name: str(getattr(self.s3, attr)) for attr, name in S3_VARIABLES.items()},
            **{name: str(getattr(self, attr)) for attr, name in VARIABLES.items()},
        }


# Field name -> environment variable.
S3_VARIABLES = {
    "endpoint_url": "S3_ENDPOINT_URL",
    "access_key": "AWS_ACCESS_KEY_ID",
    "secret_key": "AWS_SECRET_ACCESS_KEY",
    "region": "AWS_DEFAULT_REGION",
}
VARIABLES = {f.name: f.name.upper() for f in fields(Settings) if f.name != "s3"}


def _read(defaults, variables: dict[str, str], env) -> object:
    """`defaults` with each variable present in env, converted to the field's type."""
    changes = {}
    for attr, name in variables.items():
        if name in env:
            changes[attr] = _convert(type(getattr(defaults, attr)), name, env[name])
    return replace(defaults, **changes)


# The words a yes/no setting may be written with (case does not matter).
SWITCH_WORDS = {"on": True, "true": True, "yes": True, "1": True,
                "off": False, "false": False, "no": False, "0": False}


def _convert(kind: type, name: str, text: str):
    if kind is not bool:
        return kind(text)
    try:
        return SWITCH_WORDS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"{name} must be on or off, not {text!r}") from None

"""The pipeline's configuration, read from the environment in one place and passed down.

Every variable is documented in .env.example; the defaults match the local stack that
infra/ starts on 127.0.0.1, so nothing needs setting to run on one machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent


def _int(env: dict, name: str, default: int) -> int:
    return int(env.get(name, default))


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
    kafka_partitions: int = 3
    kafka_source: str = "python"
    kafka_log_bucket: str = "kafka-log"
    elasticsearch_url: str = "http://127.0.0.1:9200"
    elasticsearch_index: str = "field-images"
    n_variants: int = 4
    max_pixels: int = 100_000_000
    max_upload_bytes: int = 20 * 1024 * 1024
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    spark_master: str = "local[*]"
    checkpoint_dir: str = str(PROJECT_ROOT / ".stack" / "checkpoints" / "streaming")
    stack_dir: str = str(PROJECT_ROOT / ".stack")

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        """Build settings from environment variables, falling back to the defaults above."""
        env = os.environ if env is None else env
        d = cls()
        s3 = S3Settings(
            endpoint_url=env.get("S3_ENDPOINT_URL", d.s3.endpoint_url),
            access_key=env.get("AWS_ACCESS_KEY_ID", d.s3.access_key),
            secret_key=env.get("AWS_SECRET_ACCESS_KEY", d.s3.secret_key),
            region=env.get("AWS_DEFAULT_REGION", d.s3.region),
        )
        return replace(
            d,
            s3=s3,
            dataset_root=env.get("DATASET_ROOT", d.dataset_root),
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", d.kafka_bootstrap_servers),
            kafka_topic=env.get("KAFKA_TOPIC", d.kafka_topic),
            kafka_partitions=_int(env, "KAFKA_PARTITIONS", d.kafka_partitions),
            kafka_source=env.get("KAFKA_SOURCE", d.kafka_source),
            kafka_log_bucket=env.get("KAFKA_LOG_BUCKET", d.kafka_log_bucket),
            elasticsearch_url=env.get("ELASTICSEARCH_URL", d.elasticsearch_url),
            elasticsearch_index=env.get("ELASTICSEARCH_INDEX", d.elasticsearch_index),
            n_variants=_int(env, "N_VARIANTS", d.n_variants),
            max_pixels=_int(env, "MAX_PIXELS", d.max_pixels),
            max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", d.max_upload_bytes),
            api_host=env.get("API_HOST", d.api_host),
            api_port=_int(env, "API_PORT", d.api_port),
            spark_master=env.get("SPARK_MASTER", d.spark_master),
            checkpoint_dir=env.get("CHECKPOINT_DIR", d.checkpoint_dir),
            stack_dir=env.get("STACK_DIR", d.stack_dir),
        )

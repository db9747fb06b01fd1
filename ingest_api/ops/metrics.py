"""Prometheus metrics of the API at GET /metrics: requests, latency, upload bytes, Kafka publishes,
the circuit breakers, the model served and its predictions.

gunicorn runs several worker processes, each counting its own requests. prometheus_client's
multiprocess mode adds them up: each process writes its values to files in
PROMETHEUS_MULTIPROC_DIR, and /metrics, in whichever worker answers it, reads them all. The
variable must be set before prometheus_client is first imported; ingest_api/server.py sees to it
and empties the directory when gunicorn starts. init_app reads it once, as prometheus_client did:
without it (the test client, a single process), the process's own values are served.

/metrics answers on gunicorn's internal port only: nginx, the public front, refuses it
(infra/nginx.py), so operators and Prometheus on the host read it without a device token.
docs/operations.md lists every metric.
"""

from __future__ import annotations

import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"  # requests no route took (404s): one label, not one per path

REQUESTS = Counter(
    "ingest_api_requests", "HTTP requests answered, by route (URL rule), method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "ingest_api_request_duration_seconds", "Time from a request's start to its answer, by route",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPLOAD_BYTES = Histogram(
    "ingest_api_upload_bytes", "Size of upload requests (photo and form) received, by status",
    ["status"],
    buckets=(16 * 1024, 64 * 1024, 256 * 1024, 1024**2, 4 * 1024**2, 16 * 1024**2, 32 * 1024**2),
)
KAFKA_PUBLISH = Histogram(
    "ingest_api_kafka_publish_seconds",
    "Time to hand an upload to Kafka and get its acknowledgement, by outcome (ok or failed)",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

MODEL_SERVED = Gauge(
    "ingest_api_model_served",
    "1 for the registered model version a worker answers /classify with, 0 for one it answered "
    "with before; the highest of the live workers",
    ["model", "version"], multiprocess_mode="livemax",
)
MODEL_SECONDS = Histogram(
    "ingest_api_model_seconds",
    "Time the model takes on one photo of /classify, waiting for the worker's model included, "
    "by model version",
    ["model", "version"],
    buckets=(0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56),
)
BREAKER_OPEN = Gauge(
    "ingest_api_breaker_open",
    "1 while a worker's circuit breaker refuses every call to the service "
    "(ingest_api/ops/guard.py), else 0; the highest of the live workers",
    ["service"], multiprocess_mode="livemax",
)
PREDICTIONS = Counter(
    "ingest_api_predictions", "Photos /classify answered, by the crop predicted and the model",
    ["crop", "model", "version"],
)

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")  # not in the public contract (openapi.INTERNAL_ENDPOINTS)
def metrics():
    """The metrics of every worker, in Prometheus' text format."""
    registry = current_app.extensions["metrics_registry"]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def served_registry(multiproc_dir: str | None) -> CollectorRegistry:
    """The registry /metrics serves: every worker's files in multiproc_dir, else this process's."""
    if not multiproc_dir:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
    return registry


def init_app(app: Flask) -> None:
    """Time every request and count it by route and status once answered.

    The workers' directory is read once, here: prometheus_client read the same variable when
    first imported, and the process starting gunicorn set it (ingest_api/server.py).
    """
    app.extensions["metrics_registry"] = served_registry(os.environ.get(MULTIPROC_DIR_VARIABLE))
    app.before_request(_start_clock)
    app.after_request(_count)


class ServedModelGauge:
    """The champion's on_change (model/champion.py): MODEL_SERVED 1 for the version served
    now, 0 for those served before."""

    def __init__(self):
        self.shown: set[tuple[str, str]] = set()

    def __call__(self, model) -> None:
        now = {(model.name, str(model.version))} if model is not None else set()
        for labels in self.shown - now:
            MODEL_SERVED.labels(*labels).set(0)
        for labels in now:
            MODEL_SERVED.labels(*labels).set(1)
        self.shown |= now


def _start_clock() -> None:
    g.metrics_started = time.perf_counter()


def _count(response):
    started = g.get("metrics_started")
    if started is None:  # refused before the clock started (by an earlier before_request)
        return response
    route = request.url_rule.rule if request.url_rule else UNMATCHED_ROUTE
    status = str(response.status_code)
    REQUESTS.labels(route, request.method, status).inc()
    LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
    if request.endpoint == "ingest.post_image" and request.content_length is not None:
        UPLOAD_BYTES.labels(status).observe(request.content_length)
    return response

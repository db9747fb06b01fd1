"""Health: GET /is_alive (the process answers) and GET /readyz (Kafka answers), for the
platform's probes, which carry no token (auth/tokens.py's OPEN_ENDPOINTS)."""

from __future__ import annotations

from flask import Blueprint

from ingest_api.contract import api_schemas
from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.ops.version import __version__
from ingest_api.upload.publisher import KafkaUnavailable, get_publisher

bp = Blueprint("health", __name__)


@bp.get("/is_alive")
@documented(
    Operation(
        "Liveness: the process answers",
        {200: Body("alive, whatever Kafka and Elasticsearch do", api_schemas.ALIVE)},
    )
)
def is_alive():
    """The process answers; says nothing about Kafka."""
    return {"status": "ok", "service": "ingest_api", "version": __version__}


@bp.get("/readyz")
@documented(
    Operation(
        "Readiness: Kafka answers with the topic's metadata",
        {200: Body("ready to take uploads", api_schemas.READY)},
        errors=(KafkaUnavailable,),
    )
)
def readyz():
    """Ready when Kafka answers with the topic's metadata within about two seconds."""
    get_publisher().check()
    return {"status": "ready"}

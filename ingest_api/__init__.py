"""The API: the upload endpoint that checks a photo by content and puts it on Kafka, what the
pipeline recorded about photos, label corrections, the live map, POST /classify and the review
queue.

Build the app with create_app(); serve it with `python -m ingest_api` (gunicorn, with the
options of server.py; cli.py also issues and revokes device tokens).

One sub-package per concern, each with its blueprint(s), all registered below:
- upload/: POST /post_image (routes.py), its form (form.py), re-uploads of recorded photos
  (reuploads.py), the worker's decode budget (decode_budget.py), the Kafka publisher
  (publisher.py) and the upload page at / (page.py);
- records/: GET /images/<id> and GET /images (routes.py), the Elasticsearch records
  (image_records.py), the device's list (image_list.py), the uploads accepted lately
  (accepted_uploads.py), the tensors' PNGs (tensors.py), a prediction's lineage
  (model_lineage.py);
- labels/: label corrections and their history (corrections.py);
- maps/: the live map page and its queries (live_map.py, points.py), the vendored map scripts
  (assets.py);
- classify/: POST /classify and the worker's champion model (routes.py);
- review/: the review queue, /review and /review/queue (routes.py, queue.py);
- auth/: device tokens (tokens.py, store.py), the rate limits (limits.py), CORS (cors.py);
- contract/: the OpenAPI document (openapi.py, api_schemas.py, operations.py) and its routes,
  /openapi.json and /docs (routes.py);
- ops/: the typed errors and the one handler that answers them (errors.py, answers.py),
  /is_alive and /readyz (health.py), /metrics (metrics.py), request ids (request_ids.py), the
  circuit breaker of backing services (guard.py), closing the clients as the process ends
  (closing.py), the version (version.py).
static/ and templates/ hold the pages' files.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from ingest_api.auth.cors import CrossOrigin
from ingest_api.auth.limits import init_rate_limits
from ingest_api.auth.tokens import Authenticator
from ingest_api.classify import routes as classify
from ingest_api.contract.routes import bp as contract_bp
from ingest_api.labels.corrections import LabelBook
from ingest_api.labels.corrections import bp as labels_bp
from ingest_api.maps.live_map import bp as live_map_bp
from ingest_api.ops import closing, metrics, request_ids
from ingest_api.ops.answers import register_error_handlers
from ingest_api.ops.health import bp as health_bp
from ingest_api.ops.version import __version__
from ingest_api.records.accepted_uploads import AcceptedUploads
from ingest_api.records.image_records import ImageRecords
from ingest_api.records.model_lineage import ModelLineage
from ingest_api.records.routes import bp as records_bp
from ingest_api.records.tensors import DatasetTensors
from ingest_api.records.tensors import bp as tensors_bp
from ingest_api.review.routes import bp as review_bp
from ingest_api.upload.decode_budget import DecodeBudget
from ingest_api.upload.page import bp as upload_page_bp
from ingest_api.upload.publisher import KafkaPublisher
from ingest_api.upload.routes import bp as upload_bp
from settings import Settings

# Room for the multipart framing and the small form fields around the photo.
FORM_OVERHEAD_BYTES = 64 * 1024

__all__ = ["FORM_OVERHEAD_BYTES", "__version__", "create_app"]

BLUEPRINTS = (metrics.bp, health_bp, upload_bp, records_bp, classify.bp, labels_bp, tensors_bp,
              contract_bp, live_map_bp, upload_page_bp, review_bp)


def create_app(test_config: Settings | Mapping | None = None) -> Flask:
    """Build the app from Settings.from_env(), or from `test_config`.

    `test_config` is either a Settings, or a mapping of Flask config values whose optional
    "SETTINGS" entry replaces the settings from the environment.
    """
    if isinstance(test_config, Settings):
        test_config = {"SETTINGS": test_config}
    config = dict(test_config or {})
    settings = config.get("SETTINGS") or Settings.from_env()

    app = Flask(__name__)
    app.config.from_mapping(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + FORM_OVERHEAD_BYTES,
    )
    app.config.update(config)
    app.json.sort_keys = False

    closing.init_app(app)  # before the clients that register their close with it
    metrics.init_app(app)  # first of the hooks: its clock starts before the other checks
    request_ids.init_app(app)
    KafkaPublisher.from_settings(settings).init_app(app)
    ImageRecords.from_settings(settings).init_app(app)
    ModelLineage.from_settings(settings).init_app(app)
    CrossOrigin.from_settings(settings).init_app(app)  # preflights come without a token
    AcceptedUploads.from_settings(settings).init_app(app)
    Authenticator.from_settings(settings).init_app(app)
    DecodeBudget.from_settings(settings).init_app(app)
    classify.init_app(app, settings)
    LabelBook.from_settings(settings).init_app(app)
    DatasetTensors.from_settings(settings).init_app(app)
    register_error_handlers(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    init_rate_limits(app, settings)  # last: it wraps the views of the blueprints
    return app

"""The mobile app's upload endpoint: checks a photo by content and puts it on Kafka; and
POST /classify, which answers which crop a photo shows.

Build the app with create_app(); serve it with `python -m ingest_api` (gunicorn, with the
options of server.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from ingest_api import classify, metrics, request_ids
from ingest_api.accepted_uploads import AcceptedUploads
from ingest_api.answers import register_error_handlers
from ingest_api.auth import Authenticator
from ingest_api.auth_limits import init_rate_limits
from ingest_api.contract import bp as contract_bp
from ingest_api.cors import CrossOrigin
from ingest_api.decode_budget import DecodeBudget
from ingest_api.image_records import ImageRecords
from ingest_api.labels import LabelBook
from ingest_api.live_map import bp as live_map_bp
from ingest_api.model_lineage import ModelLineage
from ingest_api.publisher import KafkaPublisher
from ingest_api.review import bp as review_bp
from ingest_api.routes import bp
from ingest_api.tensors import DatasetTensors
from ingest_api.upload_page import bp as upload_page_bp
from ingest_api.version import __version__
from settings import Settings

# Room for the multipart framing and the small form fields around the photo.
FORM_OVERHEAD_BYTES = 64 * 1024

__all__ = ["FORM_OVERHEAD_BYTES", "__version__", "create_app"]


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

    metrics.init_app(app)  # first: its clock starts before the other checks
    request_ids.init_app(app)
    KafkaPublisher.from_settings(settings).init_app(app)
    ImageRecords.from_settings(settings).init_app(app)
    ModelLineage.from_settings(settings).init_app(app)
    CrossOrigin.from_settings(settings).init_app(app)  # preflights come without a token
    AcceptedUploads.from_settings(settings).init_app(app)
    Authenticator.from_settings(settings).init_app(app)
    DecodeBudget.from_settings(settings).init_app(app)
    register_error_handlers(app)
    app.register_blueprint(bp)
    classify.init_app(app, settings)
    LabelBook.from_settings(settings).init_app(app)
    DatasetTensors.from_settings(settings).init_app(app)
    app.register_blueprint(contract_bp)
    app.register_blueprint(live_map_bp)
    app.register_blueprint(upload_page_bp)
    app.register_blueprint(review_bp)
    init_rate_limits(app, settings)
    return app

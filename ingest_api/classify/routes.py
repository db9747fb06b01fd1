"""POST /classify: which crop a photo shows, by the champion model, from the very tensor the
dataset holds for it.

The photo goes through the upload's form, token, rate limit and decode budget, as on
/post_image, then through the core's process_image: the function whose base tensor the stream
and the batch job write into the shards. That tensor goes to the champion, which a thread of each
worker keeps current (model/champion.py). Nothing is stored or sent to Kafka.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, current_app, request
from flask.logging import default_handler

from ingest_api.contract import api_schemas
from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.ops import metrics
from ingest_api.ops.closing import on_close
from ingest_api.upload.decode_budget import DecodeBusy
from ingest_api.upload.form import FORM_ERRORS, parse_upload
from ingest_api.upload.routes import within_decode_budget
from model.champion import Champion, ModelUnavailable, NoModel
from preprocessing import ImageRejected, ProcessedImage, process_image
from settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("classify", __name__)

EXTENSION_KEY = "champion"


def init_app(app: Flask, settings: Settings) -> None:
    """Start the worker's champion; the model's log lines (which version
    serves, the registry's outages) join the app's."""
    model_log = logging.getLogger("model")
    model_log.setLevel(logging.INFO)
    if default_handler not in model_log.handlers:
        model_log.addHandler(default_handler)
    champion = Champion.from_settings(settings, on_change=metrics.ServedModelGauge())
    app.extensions[EXTENSION_KEY] = champion.start()
    on_close(app, champion.close)


def get_champion() -> Champion:
    return current_app.extensions[EXTENSION_KEY]


def base_tensor_of(data: bytes, max_pixels: int, max_decode_mb: int) -> ProcessedImage:
    """The core as the stream and the batch job run it, without the augmented variants."""
    return process_image(data, n_variants=0, max_pixels=max_pixels, max_decode_mb=max_decode_mb)


@bp.post("/classify")
@documented(
    Operation(
        "Which crop a photo shows, by the champion model",
        {200: Body("the model's answer", api_schemas.CLASSIFIED)},
        errors=(*FORM_ERRORS, ImageRejected, DecodeBusy, NoModel, ModelUnavailable),
        request_body={"multipart/form-data": api_schemas.CLASSIFY_FORM},
        description="The photo is checked as POST /post_image checks it (the same refusals), "
        "made into the 224x224 tensor the pipeline's dataset holds for it, by the same code, "
        "and given to the model the registry names `champion`. Nothing is stored. Each worker "
        "asks the registry every MODEL_REFRESH_S who the champion is and swaps to a new one "
        "without failing a request; while the registry does not answer, it serves the last "
        "model it had. 503 `no_model` before any model was promoted; 503 `model_unavailable` "
        "while the registry does not answer and the worker has no model yet.",
    )
)
def classify():
    """Run the photo through the core and the champion; answer the model's best crops."""
    settings = current_app.config["SETTINGS"]
    upload = parse_upload(request, settings.max_upload_bytes)
    serving = get_champion().serving()  # 503 before the decode when there is no model
    processed = within_decode_budget(base_tensor_of, upload.data, settings)
    started = time.perf_counter()
    prediction = serving.predictor.predict(processed.base)
    model, version = serving.model, str(serving.model.version)
    metrics.MODEL_SECONDS.labels(model.name, version).observe(time.perf_counter() - started)
    metrics.PREDICTIONS.labels(prediction.crop, model.name, version).inc()
    image_id = processed.metadata.image_id
    log.info("classified %s as %s (%.3f) with %s version %s", image_id, prediction.crop,
             prediction.confidence, model.name, model.version)
    return {
        "image_id": image_id,
        "crop": prediction.crop,
        "confidence": prediction.confidence,
        "top": [{"crop": crop, "probability": p} for crop, p in prediction.top],
        "model": {"name": model.name, "version": version},
        "tensor_sha256": prediction.tensor_sha256,
    }

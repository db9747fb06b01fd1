"""Label corrections: PUT /images/<id>/label, and the history at GET /images/<id>/labels.

A correction records the prediction it overrules: the one the client showed the person (e.g.
/classify's answer, sent with the correction), else the one the photo's record holds.
A review (the body's `"review": true`, as the review queue sends it) keeps a confirmation of the
label the photo has too: a person judged its prediction, which then leaves the queue.
A correction is recorded durably first (dataset/label_corrections.py), then applied to the
image's manifest row and its search document. Every step is safe to repeat: a client that got
no answer sends the same correction again. A correction to the label the photo has already is
answered with `changed: false`, and nothing is written (nor recorded, but for a review's first
confirmation of that prediction).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime

from deltalake.exceptions import DeltaError
from flask import Blueprint, Flask, current_app, request

from adapters.object_store import open_store
from dataset.label_corrections import (
    MAX_NOTE_CHARS,
    MODEL_VERSION,
    CorrectionLog,
    LabelCorrection,
)
from dataset.manifest import Manifest
from ingest_api.auth.tokens import current_device
from ingest_api.contract import api_schemas
from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.ops.errors import (
    ApiError,
    DatasetUnavailable,
    InvalidField,
    InvalidImageId,
    NotProcessed,
    UnknownImage,
)
from ingest_api.ops.request_ids import current_request_id
from ingest_api.records.image_records import IndexUnavailable, get_image_records
from ingest_api.records.routes import checked_image_id, no_record
from photo import rules
from settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("labels", __name__)

EXTENSION_KEY = "label_book"

# A request waits at most ~3 s on an unreachable dataset before its 503 with Retry-After:
# two retries, instead of delta-rs's ten spread over up to three minutes.
QUICK_FAILURE = {"max_retries": "2", "retry_timeout": "3s"}
PREDICTION_EXAMPLE = '{"crop": "maize", "confidence": 0.81, "model_version": "3"}'


class InvalidCorrection(ApiError):
    code = "invalid_correction"


class InvalidNote(ApiError):
    code = "invalid_note"


class LabelBook:
    """Where the app records corrections and applies them: the dataset root's tables."""

    def __init__(self, corrections: CorrectionLog, manifest: Manifest):
        self.corrections, self.manifest = corrections, manifest

    @classmethod
    def from_settings(cls, settings: Settings) -> LabelBook:
        store = open_store(settings.dataset_root, settings.s3)
        return cls(CorrectionLog.of(store, **QUICK_FAILURE), Manifest.of(store, **QUICK_FAILURE))

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self

    def correct(self, correction: LabelCorrection) -> None:
        """Record the correction, then give the manifest row its new label."""
        try:
            self.corrections.record(correction)
            self.manifest.relabel(correction.image_id, correction.new_label)
        except (DeltaError, OSError) as error:
            log.warning("correcting the label of %s failed: %r", correction.image_id, error)
            raise DatasetUnavailable("the dataset could not be written") from error

    def confirm(self, correction: LabelCorrection) -> None:
        """Record a review's confirmation of the label, once per photo and model version."""
        try:
            if correction.image_id not in self.corrections.reviewed().get(
                    correction.model_version, ()):
                self.corrections.record(correction, review=True)
        except (DeltaError, OSError) as error:
            log.warning("confirming the label of %s failed: %r", correction.image_id, error)
            raise DatasetUnavailable("the dataset could not be written") from error

    def reviewed(self) -> dict[str, set[str]]:
        """model version -> the photos whose prediction by it a person judged."""
        try:
            return self.corrections.reviewed()
        except (DeltaError, OSError) as error:
            log.warning("reading the reviewed photos failed: %r", error)
            raise DatasetUnavailable("the dataset could not be read") from error

    def history(self, image_id: str) -> list[LabelCorrection]:
        try:
            return self.corrections.history(image_id)
        except (DeltaError, OSError) as error:
            log.warning("reading the label history of %s failed: %r", image_id, error)
            raise DatasetUnavailable("the dataset could not be read") from error


def get_label_book() -> LabelBook:
    return current_app.extensions[EXTENSION_KEY]


@bp.put("/images/<image_id>/label")
@documented(
    Operation(
        "Correct a processed photo's crop label",
        {200: Body("recorded, and applied to the manifest and the index; or, for the label "
                   "the photo has already, nothing done (`changed` false)",
                   api_schemas.LABEL_CORRECTED)},
        errors=(InvalidImageId, InvalidCorrection, InvalidField, InvalidNote, UnknownImage,
                NotProcessed, IndexUnavailable, DatasetUnavailable),
        parameters={"image_id": api_schemas.IMAGE_ID_SCHEMA},
        request_body={"application/json": api_schemas.LABEL_CORRECTION_REQUEST},
        description="Each correction is kept with the old and new label, the device and the "
        "time, and the prediction it overrules: `prediction` as the client showed it (e.g. "
        "POST /classify's crop, confidence, model version and margin), else the prediction the "
        "photo's record holds. The label the photo has already is no correction and is not "
        "kept, so sending the same correction again is harmless; but with `\"review\": true` "
        "(as the review page sends it) it is kept once as a confirmation of the prediction, "
        "which then leaves GET /review/queue.",
    )
)
def correct_label(image_id: str):
    """Give a processed photo another crop label, with an optional note saying why."""
    image_id = checked_image_id(image_id)
    body = request.get_json(silent=True)
    new_label, note = correction_body(body)
    shown = shown_prediction(body)
    record = get_image_records().get(image_id)
    if record is None:
        raise no_record(image_id)
    if record["status"] != "processed":
        raise NotProcessed(f"image {image_id} was rejected: it has no label to correct")
    correction = LabelCorrection(
        image_id=image_id, old_label=record["label"], new_label=new_label, note=note,
        device_id=current_device(), corrected_at=datetime.now(UTC).isoformat(),
        request_id=current_request_id(), **(shown or recorded_prediction(record)),
    )
    previous = record["label"]
    if correction.changes_label:
        get_label_book().correct(correction)
        get_image_records().relabel(image_id, new_label)
        message = f"image {image_id} is labelled {new_label} now (was {previous or 'unlabelled'})"
    elif review_of(body) and correction.model_version is not None:
        get_label_book().confirm(correction)
        message = f"image {image_id} is labelled {new_label} already: confirmed"
    else:
        message = f"image {image_id} is labelled {new_label} already: nothing changed"
    return {"image_id": image_id, "label": new_label, "previous_label": previous,
            "changed": correction.changes_label, "message": message,
            "history": [asdict(c) for c in get_label_book().history(image_id)]}


@bp.get("/images/<image_id>/labels")
@documented(
    Operation(
        "Every correction of a photo's label",
        {200: Body("oldest first; empty when never corrected", api_schemas.LABEL_HISTORY)},
        errors=(InvalidImageId, DatasetUnavailable),
        parameters={"image_id": api_schemas.IMAGE_ID_SCHEMA},
    )
)
def label_history(image_id: str):
    """Every correction of a photo's label, oldest first."""
    image_id = checked_image_id(image_id)
    return {"image_id": image_id,
            "history": [asdict(c) for c in get_label_book().history(image_id)]}


def review_of(body: dict) -> bool:
    """Whether the body says it is a review (`"review": true`); InvalidCorrection unless a
    boolean or left out."""
    review = body.get("review", False)
    if not isinstance(review, bool):
        raise InvalidCorrection('"review" is true (sent from the review queue) or left out')
    return review


def shown_prediction(body: dict) -> dict | None:
    """The correction's fields of the prediction the client showed: its body's `prediction`
    {"crop", "confidence", "model_version"} and optionally "margin"; None when it sent none."""
    shown = body.get("prediction")
    if shown is None:
        return None
    if not _is_prediction(shown):
        raise InvalidCorrection("a correction's prediction is the model's answer it overrules, "
                                f"such as {PREDICTION_EXAMPLE}: a crop, a confidence from 0 to 1 "
                                "and the model's version (and a margin from 0 to 1, if known)")
    margin = shown.get("margin")
    return {"prediction": shown["crop"], "prediction_confidence": float(shown["confidence"]),
            "model_version": shown["model_version"],
            "prediction_margin": None if margin is None else float(margin)}


def _is_prediction(shown) -> bool:
    if not isinstance(shown, dict) or set(shown) - {"margin"} != {
            "crop", "confidence", "model_version"}:
        return False
    crop, confidence, version = shown["crop"], shown["confidence"], shown["model_version"]
    return (isinstance(crop, str) and bool(rules.LABEL.fullmatch(crop))
            and _is_fraction(confidence) and _is_fraction(shown.get("margin", 0))
            and isinstance(version, str) and bool(MODEL_VERSION.fullmatch(version)))


def _is_fraction(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def recorded_prediction(record: dict) -> dict:
    """The correction's fields of the prediction the photo's record holds (none are null)."""
    return {"prediction": record.get("prediction"),
            "prediction_confidence": record.get("prediction_confidence"),
            "prediction_margin": record.get("prediction_margin"),
            "model_version": record.get("model_version")}


def correction_body(body) -> tuple[str, str | None]:
    """The new label and the note of a JSON body {"label": ..., "note": ...}."""
    if not isinstance(body, dict) or not isinstance(body.get("label"), str):
        raise InvalidCorrection('send a JSON object such as {"label": "maize", "note": "why"}')
    try:
        label = rules.label(body["label"])
    except rules.InvalidFact as error:
        raise InvalidField(error) from error
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_CHARS
                             or not note.isprintable()):
        raise InvalidNote(f"a note is printable text of at most {MAX_NOTE_CHARS} characters")
    return label, note


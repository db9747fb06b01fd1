"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of what the API takes and answers.

Each is derived from the code that makes the value where there is one: the upload form from
the facts of photo/facts.py, the image record from dataset/image_record.py's
FIELDS as ingest_api/records/image_records.py shows them.
"""

from __future__ import annotations

from dataset.image_record import FIELDS, STATUSES
from dataset.label_corrections import MAX_NOTE_CHARS, MODEL_VERSION
from dataset.records import GPS_SOURCES
from ingest_api.records.image_records import IMAGE_ID, PUBLIC_FIELDS
from ingest_api.upload.form import FILE_FIELD
from model.predictor import TOP
from photo.facts import FORM_FACTS, PAIRED, Fact, form_field_of
from photo.rules import LABEL

# A record field's kind -> the JSON Schema of its values.
KIND_SCHEMAS = {
    "keyword": {"type": "string"},
    "text": {"type": "string"},
    "byte": {"type": "integer"},
    "integer": {"type": "integer"},
    "long": {"type": "integer"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "date": {"type": "string", "format": "date-time"},
    "local_time": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"},
    "keywords": {"type": "array", "items": {"type": "string"}},
    "image": {"type": "string", "contentEncoding": "base64"},
}


def whole(pattern) -> str:
    """A compiled regex that Python applies with fullmatch, as an anchored JSON Schema pattern."""
    return f"^(?:{pattern.pattern})$"


def form_property(fact: Fact) -> dict:
    """The upload form's field of a fact."""
    pattern = {"pattern": whole(fact.pattern)} if fact.pattern else {}
    return {"type": "string", **pattern, "description": fact.about}


# The form fields of a position, which are sent together or not at all.
LAT, LON = (form_field_of(name) for name in PAIRED)


# The 202's Location header: where the photo's record will be (GET /images/<id>).
RECORD_LOCATION = {
    "description": "the path of the photo's record, GET /images/<image_id>: 404 "
    "not_processed_yet until the stream has recorded it",
    "schema": {"type": "string", "pattern": r"^/images/[0-9a-f]{64}$"},
}

IMAGE_ID_SCHEMA = {
    "type": "string",
    "pattern": whole(IMAGE_ID),
    "description": "sha256 of the photo's bytes, 64 hex characters",
}

VARIANT_SCHEMA = {
    "type": "string",
    "pattern": "^(base|aug[0-9]+)$",
    "description": "base (the 224x224 tensor) or augK, one of the record's `variants`",
}


def error_body(codes: list[str]) -> dict:
    return {
        "type": "object",
        "description": "Every error answer: a code for programs, a sentence for people, and "
        "the request id to quote.",
        "properties": {
            "error": {"type": "string", "enum": codes},
            "message": {"type": "string"},
            "request_id": {"type": "string"},
        },
        "required": ["error", "message", "request_id"],
        "additionalProperties": False,
    }


ALIVE = {
    "type": "object",
    "properties": {
        "status": {"const": "ok"},
        "service": {"const": "ingest_api"},
        "version": {"type": "string"},
    },
    "required": ["status", "service", "version"],
    "additionalProperties": False,
}

READY = {
    "type": "object",
    "properties": {"status": {"const": "ready"}},
    "required": ["status"],
    "additionalProperties": False,
}

UPLOAD_FORM = {
    "type": "object",
    "properties": {
        FILE_FIELD: {
            "type": "string",
            "contentMediaType": "application/octet-stream",
            "description": "the photo, one file, at most MAX_UPLOAD_BYTES; its format is judged "
            "by content (JPEG, PNG, HEIF, WebP, TIFF)",
        },
        **{fact.form_field: form_property(fact) for fact in FORM_FACTS},
    },
    "required": [FILE_FIELD],
    "dependentRequired": {LAT: [LON], LON: [LAT]},
}

UPLOAD_ACCEPTED = {
    "type": "object",
    "properties": {
        "image_id": IMAGE_ID_SCHEMA,
        "topic": {"type": "string"},
        "partition": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0},
        "status": {"const": "accepted"},
    },
    "required": ["image_id", "topic", "partition", "offset", "status"],
    "additionalProperties": False,
}


CLASSIFY_FORM = {
    "type": "object",
    "properties": {"file": UPLOAD_FORM["properties"][FILE_FIELD]},
    "required": [FILE_FIELD],
    "description": "the photo alone; the optional fields of POST /post_image are checked by "
    "the same rules if sent, and not used",
}

_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
CLASSIFIED = {
    "type": "object",
    "properties": {
        "image_id": IMAGE_ID_SCHEMA,
        "crop": {"type": "string", "description": "the crop the model finds most likely"},
        "confidence": {**_PROBABILITY, "description": "the model's probability for that crop"},
        "top": {
            "type": "array",
            "description": f"the {TOP} most likely crops, most likely first",
            "items": {
                "type": "object",
                "properties": {"crop": {"type": "string"}, "probability": _PROBABILITY},
                "required": ["crop", "probability"],
                "additionalProperties": False,
            },
            "maxItems": TOP,
        },
        "model": {
            "type": "object",
            "description": "the registered model that answered (the champion of the moment)",
            "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
            "required": ["name", "version"],
            "additionalProperties": False,
        },
        "tensor_sha256": {
            "type": "string", "pattern": "^[0-9a-f]{64}$",
            "description": "sha256 of the 224x224x3 uint8 tensor the model was fed: the base "
            "tensor the dataset holds for this photo once the pipeline has processed it",
        },
    },
    "required": ["image_id", "crop", "confidence", "top", "model", "tensor_sha256"],
    "additionalProperties": False,
}


# What the API's record adds to the record's own fields.
INDEX_FIELDS = {"processed_at": ("date", "when the pipeline indexed the photo")}


PREDICTION_LINEAGE = {
    "type": ["object", "null"],
    "description": "where the prediction comes from: the model version's MLflow run and the "
    "data it was trained on; null without a prediction, or while the registry does not answer",
    "properties": {
        "model_name": {"type": "string", "description": "the registered model"},
        "model_version": {"type": "string"},
        "mlflow_run_id": {"type": "string", "description": "the training run that made it"},
        "dataset_root": {"type": ["string", "null"], "description": "the dataset it learnt from"},
        "snapshot": {"type": ["string", "null"], "description": "the dataset's pinned snapshot"},
        "delta_version": {"type": ["integer", "null"],
                          "description": "the manifest's Delta version that snapshot pins"},
    },
    "required": ["model_name", "model_version", "mlflow_run_id", "dataset_root", "snapshot",
                 "delta_version"],
    "additionalProperties": False,
}


def image_record(lineage: bool = False) -> dict:
    """The answer of GET /images/<id>: the record's public fields, each null when unknown, and
    with `lineage` (that route's own answer) where its prediction comes from."""
    facts = {field.name: (field.kind, field.about) for field in FIELDS} | INDEX_FIELDS
    properties = {
        "image_id": IMAGE_ID_SCHEMA,
        "status": {"enum": list(STATUSES)},
        "reason": {"type": "string", "description": "rejected photos only: " + facts["reason"][1]},
        "message": {"type": "string", "description": "rejected photos only: why, in words"},
        "gps_source": {"enum": list(GPS_SOURCES), "description": facts["gps_source"][1]},
    }
    for name in PUBLIC_FIELDS:
        if name not in properties:
            kind, about = facts[name]
            schema = KIND_SCHEMAS[kind]
            properties[name] = {**schema, "type": [schema["type"], "null"], "description": about}
    if lineage:
        properties["prediction_lineage"] = PREDICTION_LINEAGE
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in ("reason", "message")],
        "additionalProperties": False,
    }


def upload_duplicate() -> dict:
    """The 200 answer of POST /post_image to a photo the pipeline has recorded already."""
    return {
        "type": "object",
        "properties": {
            "status": {"const": "duplicate"},
            "image_id": IMAGE_ID_SCHEMA,
            "message": {"type": "string", "description": "what this means and what to do, "
                        "in words: the label the photo has and how to change it"},
            "record": image_record(),
            "correct_label": {
                "type": "object",
                "description": "the request that changes the photo's label",
                "properties": {"method": {"const": "PUT"}, "href": {"type": "string"}},
                "required": ["method", "href"],
                "additionalProperties": False,
            },
        },
        "required": ["status", "image_id", "message", "record", "correct_label"],
        "additionalProperties": False,
    }


def image_list() -> dict:
    """The answer of GET /images?device=mine: a page of the device's records."""
    return {
        "type": "object",
        "properties": {
            "images": {"type": "array", "items": image_record(),
                       "description": "newest first, by when the pipeline recorded them"},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "description": "the device's recorded photos"},
            "next": {"type": ["string", "null"], "description": "the next page, null if none"},
        },
        "required": ["images", "page", "per_page", "total", "next"],
        "additionalProperties": False,
    }


LABEL_CORRECTION_REQUEST = {
    "type": "object",
    "required": ["label"],
    "properties": {
        "label": {"type": "string", "pattern": whole(LABEL), "description": "the right crop"},
        "note": {"type": ["string", "null"], "maxLength": MAX_NOTE_CHARS,
                 "description": "why, in words"},
        "prediction": {
            "type": ["object", "null"],
            "description": "the model's answer this correction overrules, as the client showed "
            "it (POST /classify's crop, confidence and model version); without it, the "
            "prediction the photo's record holds is kept with the correction",
            "properties": {
                "crop": {"type": "string", "pattern": whole(LABEL)},
                "confidence": _PROBABILITY,
                "model_version": {"type": "string", "pattern": whole(MODEL_VERSION)},
                "margin": {**_PROBABILITY, "description": "above the second best crop's "
                           "probability"},
            },
            "required": ["crop", "confidence", "model_version"],
            "additionalProperties": False,
        },
        "review": {"type": "boolean", "description": "sent from the review queue: the label "
                   "the photo has already is kept as a confirmation of its prediction"},
    },
}

LABEL_CORRECTION_ENTRY = {
    "type": "object",
    "properties": {
        "image_id": IMAGE_ID_SCHEMA,
        "old_label": {"type": ["string", "null"]},
        "new_label": {"type": "string"},
        "note": {"type": ["string", "null"]},
        "device_id": {"type": ["string", "null"], "description": "the device that corrected it"},
        "corrected_at": {"type": "string", "format": "date-time"},
        "request_id": {"type": ["string", "null"]},
        "prediction": {"type": ["string", "null"],
                       "description": "the crop the model predicted, which the correction "
                       "overruled; null when no prediction was known"},
        "prediction_confidence": {"type": ["number", "null"]},
        "prediction_margin": {"type": ["number", "null"],
                              "description": "how far above the second best crop's "
                              "probability; null when not known"},
        "model_version": {"type": ["string", "null"],
                          "description": "the version of the model that predicted it"},
    },
}

LABEL_HISTORY = {
    "type": "object",
    "properties": {
        "image_id": IMAGE_ID_SCHEMA,
        "history": {"type": "array", "items": LABEL_CORRECTION_ENTRY,
                    "description": "every correction, oldest first"},
    },
}

LABEL_CORRECTED = {
    "type": "object",
    "properties": {
        **LABEL_HISTORY["properties"],
        "label": {"type": "string"},
        "previous_label": {"type": ["string", "null"]},
        "changed": {"type": "boolean",
                    "description": "false when the photo had this label already: nothing was "
                    "changed (a review's confirmation is recorded)"},
        "message": {"type": "string", "description": "what happened, in words"},
    },
}

_NULLABLE_STRING = {"type": ["string", "null"]}
MAP_POINT = {
    "type": "object",
    "properties": {
        "image_id": IMAGE_ID_SCHEMA,
        "label": _NULLABLE_STRING,
        "lat": {"type": "number"},
        "lon": {"type": "number"},
        "captured_at": {**_NULLABLE_STRING, "format": "date-time"},
        "captured_at_local": {**_NULLABLE_STRING, "pattern": KIND_SCHEMAS["local_time"]["pattern"],
                              "description": "the local time, whose zone is unknown when "
                              "captured_at is null"},
        "device_id": _NULLABLE_STRING,
        "gps_source": _NULLABLE_STRING,
        "prediction": {**_NULLABLE_STRING, "description": "the crop the model predicts"},
        "prediction_confidence": {"type": ["number", "null"],
                                  "description": "the model's probability of that crop, 0..1"},
        "model_version": {**_NULLABLE_STRING, "description": "the model version that predicted"},
        "record": {"type": "string", "description": "the path of the photo's record"},
        "thumbnail": {"type": "string", "description": "the path of its JPEG thumbnail"},
    },
    "required": ["image_id", "label", "lat", "lon", "captured_at", "captured_at_local",
                 "device_id", "gps_source", "prediction", "prediction_confidence",
                 "model_version", "record", "thumbnail"],
    "additionalProperties": False,
}
MAP_POINTS = {
    "type": "object",
    "properties": {
        "points": {"type": "array", "items": MAP_POINT,
                   "description": "processed photos with a position, newest first"},
        "placed": {"type": "integer", "description": "how many matched, even past the cap"},
        "truncated": {"type": "boolean", "description": "more matched than points holds"},
        "without_gps": {"type": "integer", "description": "matching photos without a position"},
        "crops": {"type": "array", "items": {"type": "string"},
                  "description": "every crop processed so far as a label or a prediction, "
                  "whatever the filters"},
    },
    "required": ["points", "placed", "truncated", "without_gps", "crops"],
    "additionalProperties": False,
}

MAP_FOUND = {
    "type": "object",
    "properties": {
        "found": {"type": "integer", "description": "how many photos' ids start so"},
        "records": {"type": "array", "items": image_record(lineage=True),
                    "description": "the first of them by id, as GET /images/<id> answers"},
    },
    "required": ["found", "records"],
    "additionalProperties": False,
}

REVIEW_ITEM = {
    "type": "object",
    "properties": {
        "image_id": IMAGE_ID_SCHEMA,
        "label": _NULLABLE_STRING,
        "prediction": {"type": "string", "description": "the crop the model predicts"},
        "prediction_confidence": {"type": ["number", "null"],
                                  "description": "the model's probability of that crop, 0..1"},
        "prediction_margin": {"type": ["number", "null"], "description": "how far above the "
                              "second best crop's; null for a prediction from before margins"},
        "model_version": _NULLABLE_STRING,
        "duplicate_group": {**_NULLABLE_STRING,
                            "description": "its near-duplicate group; one photo each is shown"},
        "reason": {"enum": ["uncertain", "differs", "unreviewed"],
                   "description": "why it is in the queue"},
        "record": {"type": "string", "description": "the path of the photo's record"},
        "thumbnail": {"type": "string", "description": "the path of its JPEG thumbnail"},
    },
    "required": ["image_id", "label", "prediction", "prediction_confidence",
                 "prediction_margin", "model_version", "duplicate_group", "reason", "record",
                 "thumbnail"],
    "additionalProperties": False,
}
REVIEW_QUEUE = {
    "type": "object",
    "properties": {
        "items": {"type": "array", "items": REVIEW_ITEM,
                  "description": "this page's photos, the one most needing a person first"},
        "page": {"type": "integer", "minimum": 1},
        "limit": {"type": "integer", "minimum": 1},
        "next_page": {"type": ["integer", "null"], "description": "null on the last page"},
        "waiting": {"type": "integer",
                    "description": "how many predicted photos no person has judged yet"},
    },
    "required": ["items", "page", "limit", "next_page", "waiting"],
    "additionalProperties": False,
}

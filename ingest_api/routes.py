"""The HTTP endpoints: health, readiness, the upload, an upload's record, a device's photos."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, current_app, jsonify, request, url_for

from adapters.kafka_messages import encode_headers
from ingest_api import api_schemas
from ingest_api.accepted_uploads import REMEMBER_S, get_accepted_uploads
from ingest_api.auth import current_device
from ingest_api.decode_budget import DecodeBusy, get_decode_budget
from ingest_api.errors import InvalidFilter, InvalidImageId, UnknownImage
from ingest_api.form import FORM_ERRORS, parse_upload
from ingest_api.image_list import ImagePage
from ingest_api.image_records import IMAGE_ID, IndexUnavailable, get_image_records
from ingest_api.model_lineage import get_model_lineage
from ingest_api.operations import Body, Operation, documented
from ingest_api.publisher import KafkaUnavailable, get_publisher
from ingest_api.request_ids import current_request_id
from ingest_api.reuploads import duplicate_answer, recorded_already
from ingest_api.version import __version__
from preprocessing import (
    CorruptImage,
    ImageMetadata,
    ImageRejected,
    image_id_of,
    load_upright_rgb,
    upright_rgb_cost,
)
from settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("ingest", __name__)

Result = TypeVar("Result")


class NotProcessedYet(UnknownImage):
    """A photo accepted lately that the stream has not recorded yet."""

    code = "not_processed_yet"


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


@bp.post("/post_image")
@documented(
    Operation(
        "Upload one photo",
        {
            202: Body("stored by Kafka; the stream processes it next. `Location` is the URL "
                      "of its record", api_schemas.UPLOAD_ACCEPTED,
                      headers={"Location": api_schemas.RECORD_LOCATION}),
            200: Body("this photo is recorded already (processed or rejected): nothing is "
                      "stored again; the answer holds its record and how to correct its label",
                      api_schemas.upload_duplicate()),
        },
        errors=(*FORM_ERRORS, ImageRejected, DecodeBusy, KafkaUnavailable),
        request_body={"multipart/form-data": api_schemas.UPLOAD_FORM},
        description="Answers once Kafka has acknowledged the photo. The photo's device is the "
        "one its token was issued to; the same bytes always get the same image_id. A photo "
        "the pipeline has recorded already is answered 200 `duplicate`; one still queued, or "
        "sent while its record cannot be looked up, is accepted again and the stream counts "
        "the copy as a duplicate.",
    )
)
def post_image():
    """Check the photo by content, put it on the topic, answer once Kafka has acknowledged it.

    A photo the pipeline has recorded already is not sent again: the answer is its record. The
    device id sent with it is the one the request's token was issued to.
    """
    settings = current_app.config["SETTINGS"]
    get_publisher().refuse_while_unavailable()  # Kafka known down: 503 before reading the photo
    upload = parse_upload(request, settings.max_upload_bytes)
    record = recorded_already(image_id_of(upload.data))
    if record is not None:
        log.info("re-upload of %s, recorded already as %s", record["image_id"], record["status"])
        return duplicate_answer(record, upload.facts.get("label")), 200
    metadata = checked_image(upload.data, settings)
    facts = {**upload.facts, "device_id": current_device(), "request_id": current_request_id()}
    receipt = get_publisher().publish(
        key=metadata.image_id, value=upload.data, headers=encode_headers(facts)
    )
    get_accepted_uploads().note(metadata.image_id)
    accepted = {"image_id": metadata.image_id, "device_id": facts["device_id"],
                "size_bytes": len(upload.data), "topic": receipt.topic,
                "partition": receipt.partition, "offset": receipt.offset}
    log.info("accepted %(image_id)s (%(size_bytes)d bytes) from device %(device_id)s at "
             "%(topic)s/%(partition)d/%(offset)d", accepted, extra={"facts": accepted})
    body = {
        "image_id": metadata.image_id,
        "topic": receipt.topic,
        "partition": receipt.partition,
        "offset": receipt.offset,
        "status": "accepted",
    }
    location = url_for("ingest.image_record", image_id=metadata.image_id)
    return jsonify(body), 202, {"Location": location}


@bp.get("/images/<image_id>")
@documented(
    Operation(
        "What the pipeline recorded about a photo",
        {200: Body("the photo's record, once processed or rejected, with its prediction's "
                   "lineage", api_schemas.image_record(lineage=True))},
        errors=(InvalidImageId, UnknownImage, IndexUnavailable),
        parameters={"image_id": api_schemas.IMAGE_ID_SCHEMA},
        description="404 `not_processed_yet` while a photo accepted in the last "
        f"{REMEMBER_S // 3600} hours waits for the stream; 404 `not_found` for an id no upload "
        "of that time brought and the pipeline has no record of. `prediction_lineage` names "
        "the model version's MLflow run and the data it was trained on; it is null without a "
        "prediction, or while the model registry does not answer.",
    )
)
def image_record(image_id: str):
    """What the pipeline recorded about an upload, once it has been processed, and where its
    prediction comes from."""
    image_id = checked_image_id(image_id)
    record = get_image_records().get(image_id)
    if record is None:
        raise no_record(image_id)
    return {**record,
            "prediction_lineage": get_model_lineage().of(record.get("model_version"))}


def no_record(image_id: str) -> UnknownImage:
    """The 404 of a photo without a record: queued (accepted lately) or unknown."""
    if get_accepted_uploads().accepted_lately(image_id):
        return NotProcessedYet(f"image {image_id} was accepted and waits for the pipeline; "
                               "ask again in a few seconds")
    return UnknownImage(f"image {image_id} is unknown: no upload of it was accepted in the last "
                        f"{REMEMBER_S // 3600} hours, and the pipeline has no record of it")


@bp.get("/images")
@documented(
    Operation(
        "The calling device's own photos, newest first",
        {200: Body("a page of the device's recorded photos", api_schemas.image_list())},
        errors=(InvalidFilter, IndexUnavailable),
        description="Query parameters: `device=mine` (required), `page` (from 1) and "
        "`per_page` (1-100, default 20). Lists the processed and rejected photos whose upload "
        "carried this request's device token, by the time the pipeline recorded them, newest "
        "first; photos still queued are not listed yet. `next` is the next page's URL, null on "
        "the last.",
    )
)
def image_list():
    """The calling device's recorded photos, a page at a time."""
    page = ImagePage.from_args(request.args, current_device())
    return page.answer(get_image_records().search(page.search()), request.path)


def checked_image_id(image_id: str) -> str:
    """The image id of a URL, in lower case; InvalidImageId unless it is a sha256 in hex."""
    if not IMAGE_ID.fullmatch(image_id):
        raise InvalidImageId("an image id is 64 hex characters (a sha256)")
    return image_id.lower()


def checked_image(data: bytes, settings: Settings) -> ImageMetadata:
    """What the request path checks: format by content, header, both caps, a working-size decode.

    Raises ImageRejected for the image's faults, DecodeBusy as within_decode_budget does.
    """
    image, metadata = within_decode_budget(load_upright_rgb, data, settings)
    image.close()
    return metadata


def within_decode_budget(step: Callable[[bytes, int, int], Result], data: bytes,
                         settings: Settings) -> Result:
    """step(data, max_pixels, max_decode_mb), a step of the core that decodes the upload.

    The decode holds its estimated memory from the worker's decode budget while it runs, so the
    worker's threads never decode more than API_DECODE_BUDGET_MB at once; raises DecodeBusy when
    that share does not come free in time. Raises ImageRejected for the image's faults.
    """
    limits = (settings.max_pixels, settings.max_decode_mb)
    cost = _refusing_failures(upright_rgb_cost, data, *limits)
    with get_decode_budget().reserve(cost):
        return _refusing_failures(step, data, *limits)


def _refusing_failures(step, data: bytes, *limits: int):
    """Run one step of the core on an upload.

    Anything the decoders raise besides the core's typed refusals is also the image's fault, not
    ours: it is logged and refused as corrupt rather than answered with a 500.
    """
    try:
        return step(data, *limits)
    except ImageRejected:
        raise
    except Exception as error:
        log.exception("the image core failed on an upload of %d bytes", len(data))
        raise CorruptImage("the image is damaged and cannot be decoded") from error

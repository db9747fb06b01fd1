"""The HTTP endpoints: health, readiness, the upload, and an upload's record."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from adapters.kafka_messages import encode_headers
from ingest_api import api_schemas
from ingest_api.auth import current_device
from ingest_api.decode_budget import DecodeBusy, get_decode_budget
from ingest_api.errors import InvalidImageId, UnknownImage
from ingest_api.form import FORM_ERRORS, parse_upload
from ingest_api.image_records import IMAGE_ID, IndexUnavailable, get_image_records
from ingest_api.operations import Body, Operation, documented
from ingest_api.publisher import KafkaUnavailable, get_publisher
from ingest_api.request_ids import current_request_id
from ingest_api.version import __version__
from preprocessing import (
    CorruptImage,
    ImageMetadata,
    ImageRejected,
    load_upright_rgb,
    upright_rgb_cost,
)
from settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("ingest", __name__)


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
        {202: Body("stored by Kafka; the stream processes it next", api_schemas.UPLOAD_ACCEPTED)},
        errors=(*FORM_ERRORS, ImageRejected, DecodeBusy, KafkaUnavailable),
        request_body={"multipart/form-data": api_schemas.UPLOAD_FORM},
        description="Answers once Kafka has acknowledged the photo. The photo's device is the "
        "one its token was issued to; the same bytes always get the same image_id.",
    )
)
def post_image():
    """Check the photo by content, put it on the topic, answer once Kafka has acknowledged it.

    The device id sent with it is the one the request's token was issued to.
    """
    settings = current_app.config["SETTINGS"]
    get_publisher().refuse_while_unavailable()  # Kafka known down: 503 before reading the photo
    upload = parse_upload(request, settings.max_upload_bytes)
    metadata = checked_image(upload.data, settings)
    facts = {**upload.facts, "device_id": current_device(), "request_id": current_request_id()}
    receipt = get_publisher().publish(
        key=metadata.image_id, value=upload.data, headers=encode_headers(facts)
    )
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
    return jsonify(body), 202


@bp.get("/images/<image_id>")
@documented(
    Operation(
        "What the pipeline recorded about a photo",
        {200: Body("the photo's record, once processed or rejected", api_schemas.image_record())},
        errors=(InvalidImageId, UnknownImage, IndexUnavailable),
        parameters={"image_id": api_schemas.IMAGE_ID_SCHEMA},
        description="404 while the photo is unknown or not processed yet.",
    )
)
def image_record(image_id: str):
    """What the pipeline recorded about an upload, once it has been processed."""
    image_id = checked_image_id(image_id)
    record = get_image_records().get(image_id)
    if record is None:
        raise UnknownImage(f"image {image_id} is unknown or not processed yet")
    return record


def checked_image_id(image_id: str) -> str:
    """The image id of a URL, in lower case; InvalidImageId unless it is a sha256 in hex."""
    if not IMAGE_ID.fullmatch(image_id):
        raise InvalidImageId("an image id is 64 hex characters (a sha256)")
    return image_id.lower()


def checked_image(data: bytes, settings: Settings) -> ImageMetadata:
    """What the request path checks: format by content, header, both caps, a working-size decode.

    The decode holds its estimated memory from the worker's decode budget while it runs, so the
    worker's threads never decode more than API_DECODE_BUDGET_MB at once; raises DecodeBusy when
    that share does not come free in time. Raises ImageRejected for the image's faults.
    """
    limits = (settings.max_pixels, settings.max_decode_mb)
    cost = _refusing_failures(upright_rgb_cost, data, *limits)
    with get_decode_budget().reserve(cost):
        image, metadata = _refusing_failures(load_upright_rgb, data, *limits)
    image.close()
    return metadata


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

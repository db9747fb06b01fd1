"""POST /post_image: the upload, checked by content and put on Kafka; and the decode budget's
guard around the image core's decoding, which POST /classify shares."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from flask import Blueprint, current_app, jsonify, request, url_for

from ingest_api.auth.tokens import current_device
from ingest_api.contract import api_schemas
from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.ops.request_ids import current_request_id
from ingest_api.records.accepted_uploads import get_accepted_uploads
from ingest_api.upload.decode_budget import DecodeBusy, get_decode_budget
from ingest_api.upload.form import FORM_ERRORS, parse_upload
from ingest_api.upload.publisher import KafkaUnavailable, get_publisher
from ingest_api.upload.reuploads import duplicate_answer, recorded_already
from photo.messages import encode_headers
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
        return duplicate_answer(record, upload.label), 200
    metadata = checked_image(upload.data, settings)
    upload = replace(upload, device_id=current_device(), request_id=current_request_id())
    receipt = get_publisher().publish(
        key=metadata.image_id, value=upload.data, headers=encode_headers(upload.facts())
    )
    get_accepted_uploads().note(metadata.image_id)
    accepted = {"image_id": metadata.image_id, "device_id": upload.device_id,
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
    location = url_for("records.image_record", image_id=metadata.image_id)
    return jsonify(body), 202, {"Location": location}


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

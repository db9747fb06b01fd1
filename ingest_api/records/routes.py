"""The records of photos: GET /images/<image_id> (what the pipeline recorded about one, and
its prediction's lineage) and GET /images (the calling device's photos).
"""

from __future__ import annotations

from flask import Blueprint, request

from ingest_api.auth.tokens import current_device
from ingest_api.contract import api_schemas
from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.ops.errors import InvalidFilter, InvalidImageId, UnknownImage
from ingest_api.records.accepted_uploads import REMEMBER_S, get_accepted_uploads
from ingest_api.records.image_list import ImagePage
from ingest_api.records.image_records import IMAGE_ID, IndexUnavailable, get_image_records
from ingest_api.records.model_lineage import get_model_lineage

bp = Blueprint("records", __name__)


class NotProcessedYet(UnknownImage):
    """A photo accepted lately that the stream has not recorded yet."""

    code = "not_processed_yet"


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

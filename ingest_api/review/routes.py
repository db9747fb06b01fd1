"""GET /review: the review page, where an agronomist confirms or corrects the predictions that
most need a person; and GET /review/queue, its list (ingest_api/review/queue.py).

The page is open like the map page (it holds no data); the queue, the thumbnails and the
corrections need the device token, which the page keeps where the map page does. A
confirmation or a correction is a PUT /images/<id>/label with `"review": true`.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ingest_api.contract import api_schemas
from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.labels.corrections import get_label_book
from ingest_api.ops.errors import DatasetUnavailable, InvalidFilter
from ingest_api.records.image_records import IndexUnavailable, get_image_records
from ingest_api.review.queue import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    UNCERTAIN_MARGIN,
    WINDOW,
    Page,
    queue_answer,
    queue_search,
)

bp = Blueprint("review", __name__)


@bp.get("/review", strict_slashes=False)
@documented(Operation("The review page", {200: Body("an HTML page", {}, "text/html")}))
def page():
    """The page; its script pages through /review/queue and sends the labels."""
    return render_template("review.html")


@bp.get("/review/queue")
@documented(
    Operation(
        "The predicted photos that most need a person, for the review page",
        {200: Body("a page of the queue", api_schemas.REVIEW_QUEUE)},
        errors=(InvalidFilter, IndexUnavailable, DatasetUnavailable),
        description="The processed photos whose prediction no person has confirmed or "
        "corrected yet (PUT /images/<id>/label; with `\"review\": true` a confirmation counts "
        f"too): first those whose margin is below {UNCERTAIN_MARGIN} (`reason` uncertain, the "
        "smallest first), then those whose prediction is not their label (differs), then the "
        "rest (unreviewed); one photo per near-duplicate group, the predicted crops taking "
        f"turns. Query parameters `page` (from 1) and `limit` (1 to {MAX_LIMIT}, "
        f"{DEFAULT_LIMIT} by default); the first {WINDOW:,} photos are ordered, the others come "
        "up as those are reviewed.",
    )
)
def queue():
    """A page of the photos most needing a person."""
    page_asked = Page.from_args(request.args)
    search = queue_search(get_label_book().reviewed())
    return queue_answer(get_image_records().search(search), page_asked)

"""GET /map: the live map of where photos were taken, and the endpoints its page calls.

The page and its scripts are public (they hold no data); /map/points, /map/find and the
thumbnails need a device token, which the page asks for once and keeps in the browser's
localStorage.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from dataset.image_record import PROCESSED
from ingest_api.contract import api_schemas
from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.maps import assets as map_assets
from ingest_api.maps.points import (
    MAX_FOUND,
    MAX_POINTS,
    MapFilters,
    find_answer,
    find_search,
    id_start,
    points_answer,
    points_search,
)
from ingest_api.ops.errors import InvalidFilter, InvalidImageId, UnknownImage
from ingest_api.records.image_records import IndexUnavailable, get_image_records
from ingest_api.records.model_lineage import get_model_lineage
from ingest_api.records.routes import checked_image_id, no_record

bp = Blueprint("live_map", __name__)


@bp.get("/map", strict_slashes=False)  # /map/ too, as people type it
@documented(Operation("The live map page", {200: Body("an HTML page", {}, "text/html")}))
def page():
    """The map page; its data comes from /map/points."""
    settings = current_app.config["SETTINGS"]
    return render_template(
        "map.html",
        tile_url=settings.map_tile_url,
        tile_attribution=settings.map_tile_attribution,
        scripts=map_assets.SCRIPTS,
        stylesheets=map_assets.STYLESHEETS,
    )


@bp.get("/map/points")
@documented(
    Operation(
        "The placed photos for the live map, and how many have no GPS",
        {200: Body("the points matching the filters", api_schemas.MAP_POINTS)},
        errors=(InvalidFilter, IndexUnavailable),
        description="Query parameters, all optional (empty is unset): `crop`, `from` and `to` "
        "(days YYYY-MM-DD, both included: the UTC day of captured_at, or the day of "
        "captured_at_local when the zone is unknown), `device`, `gps_source` (exif or "
        "client), `differs=yes` (only photos whose prediction is not their label), "
        "`min_confidence` and `max_confidence` (0 to 1: only predictions that confident). "
        f"At most {MAX_POINTS:,} points, newest first.",
    )
)
def points():
    """The placed photos matching the query's filters, and how many have no GPS."""
    filters = MapFilters.from_args(request.args)
    return points_answer(get_image_records().search(points_search(filters)))


@bp.get("/map/find")
@documented(
    Operation(
        "The photos whose image id starts with the characters given, for the map's search box",
        {200: Body("the photos found", api_schemas.MAP_FOUND)},
        errors=(InvalidImageId, IndexUnavailable),
        description="Query parameter `id`: an image id or its first characters (1 to 64 hex, "
        "either case). Processed and rejected photos, whatever the map's filters; the first "
        f"{MAX_FOUND} by id, and how many were found.",
    )
)
def find():
    """The records of the photos whose id starts with the query's `id`, each with its
    prediction's lineage, as GET /images/<id> answers."""
    answer = find_answer(get_image_records().search(find_search(id_start(request.args))))
    lineage = get_model_lineage()
    answer["records"] = [{**record, "prediction_lineage": lineage.of(record["model_version"])}
                         for record in answer["records"]]
    return answer


@bp.get("/images/<image_id>/thumbnail")
@documented(
    Operation(
        "The small JPEG of a processed photo, as the map's popups show it",
        {200: Body("the thumbnail", {}, "image/jpeg")},
        errors=(InvalidImageId, UnknownImage, IndexUnavailable),
        parameters={"image_id": api_schemas.IMAGE_ID_SCHEMA},
        description="404 `not_processed_yet` or `not_found` as GET /images/<id> answers them, "
        "or `not_found` when the photo has no thumbnail (a rejected photo has none).",
    )
)
def thumbnail(image_id: str):
    """The small JPEG of a processed photo's base tensor, as indexed for the map."""
    image_id = checked_image_id(image_id)
    records = get_image_records()
    data = records.thumbnail(image_id)
    if data is None:
        record = records.get(image_id)  # only when there is no thumbnail: why not?
        if record is None:
            raise no_record(image_id)
        raise UnknownImage(f"image {image_id} has no thumbnail" + (
            ": it was rejected" if record["status"] != PROCESSED else ""))
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

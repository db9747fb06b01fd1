"""GET /: the upload page, for field staff sending photos from a browser.

The page holds no data, so it is open like the map page; its script sends the device token
(kept in the browser's localStorage, under the key the map page uses) with every call it makes:
POST /post_image, POST /classify (the model's prediction beside the label), GET /images/<id>,
the tensor PNGs and PUT /images/<id>/label.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.maps import assets as map_assets

bp = Blueprint("upload_page", __name__)


@bp.get("/")
@documented(Operation("The upload page", {200: Body("an HTML page", {}, "text/html")}))
def page():
    """The page; its script talks to the API's endpoints."""
    settings = current_app.config["SETTINGS"]
    return render_template(
        "upload.html",
        tile_url=settings.map_tile_url,
        tile_attribution=settings.map_tile_attribution,
        leaflet_js=map_assets.LEAFLET_JS,
        leaflet_css=map_assets.LEAFLET_CSS,
        max_upload_bytes=settings.max_upload_bytes,
    )

"""The contract's two faces: the OpenAPI document at /openapi.json and Swagger UI at /docs.

Both are open, like the health probes: the contract says nothing that docs/ingest_api.md does
not, and a browser opening /docs has no token to send yet (Swagger UI's Authorize button takes
one, and keeps it in the browser). Swagger UI's scripts and styles are served from the
flask-swagger-ui package (requirements.txt), so the page needs nothing from the internet.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, current_app, render_template, send_from_directory, url_for
from werkzeug.exceptions import NotFound

from ingest_api.contract.openapi import openapi_document
from ingest_api.contract.operations import Body, Operation, documented

bp = Blueprint("contract", __name__)

SWAGGER_UI_DIST = files("flask_swagger_ui") / "dist"
SWAGGER_UI_VERSION = (SWAGGER_UI_DIST / "VERSION").read_text().strip()
# The files of Swagger UI's distribution that the docs page uses.
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE"})


@bp.get("/openapi.json")
@documented(
    Operation(
        "This API's contract, OpenAPI 3.1",
        {200: Body("the OpenAPI document", {"type": "object", "required": ["openapi", "paths"]})},
    )
)
def openapi_json():
    return openapi_document(current_app)


@bp.get("/docs", strict_slashes=False)  # /docs/ too, as people type it
@documented(
    Operation("The contract, readable: Swagger UI", {200: Body("an HTML page", {}, "text/html")})
)
def docs():
    return render_template(
        "docs.html",
        spec_url=url_for(".openapi_json"),
        asset=lambda name: url_for(".docs_asset", name=name),
        swagger_ui_version=SWAGGER_UI_VERSION,
    )


@bp.get("/docs/assets/<name>")
@documented(
    Operation(
        "A script, style or image of the docs page (Swagger UI's distribution)",
        {200: Body("the file", {}, "application/octet-stream")},
        errors=(NotFound,),
    )
)
def docs_asset(name: str):
    if name not in ASSETS:
        raise NotFound(f"the docs page has no asset {name!r}")
    return send_from_directory(SWAGGER_UI_DIST, name)

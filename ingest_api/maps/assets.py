"""Where the maps' vendored scripts and styles are (static/vendor/, see its README.md).

The live map's page and the upload page's small maps link them from the API's /static/; the
batch job's HTML map inlines them.
"""

from __future__ import annotations

from pathlib import Path

VENDOR_DIR = Path(__file__).parent.parent / "static" / "vendor"

LEAFLET_JS = "leaflet-1.9.4/dist/leaflet.js"
MARKERCLUSTER_JS = "leaflet.markercluster-1.5.3/dist/leaflet.markercluster.js"
LEAFLET_CSS = "leaflet-1.9.4/dist/leaflet.css"

# The scripts and stylesheets of a Leaflet map with marker clusters, in loading order.
SCRIPTS = (LEAFLET_JS, MARKERCLUSTER_JS)
STYLESHEETS = (
    LEAFLET_CSS,
    "leaflet.markercluster-1.5.3/dist/MarkerCluster.css",
    "leaflet.markercluster-1.5.3/dist/MarkerCluster.Default.css",
)


def vendored_text(path: str) -> str:
    """The text of a vendored file, `path` relative to VENDOR_DIR."""
    return (VENDOR_DIR / path).read_text(encoding="utf-8")

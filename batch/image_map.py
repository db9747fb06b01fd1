"""The HTML map of where the dataset's photos were taken, for agronomists to browse.

Each accepted image with a GPS position is a dot coloured by crop, clustered when zoomed out,
whose popup shows its thumbnail, crop, capture time and id. A legend counts the dots per crop
and a box says how many images could not be placed for lack of GPS. Leaflet and its cluster plugin
are inline, from the API's vendored copies (ingest_api/maps/assets.py), and so are the
thumbnails: the file travels alone and opens without internet (the tiles then stay blank).
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import folium
import pandas as pd
from branca.element import Element, MacroElement
from folium.plugins import MarkerCluster
from jinja2 import Template

from dataset.image_record import PROCESSED
from ingest_api.maps import assets as map_assets
from settings import Settings

COLUMNS = ("image_id", "label", "status", "lat", "lon", "captured_at", "captured_at_local",
           "camera", "thumbnail")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
UNLABELLED = "unlabelled"
UNLABELLED_COLOUR = "#7f7f7f"
WORLD_CENTRE, WORLD_ZOOM = (20.0, 0.0), 2
CLOSEST_ZOOM = 15  # a single farm still shows its surroundings
BOX_STYLE = (
    "position: fixed; z-index: 1000; background: white; padding: 6px 10px;"
    " border: 1px solid #999; border-radius: 4px; font: 13px sans-serif;"
)


@dataclass(frozen=True)
class MapSummary:
    """What a rendered map shows: dots placed, images left off, and dots per crop label."""

    mapped: int
    without_gps: int
    labels: dict[str, int]


@dataclass(frozen=True)
class Tiles:
    """The tile server's URL template ({z}/{x}/{y}) and the credit it asks for."""

    url: str = Settings.map_tile_url
    attribution: str = Settings.map_tile_attribution

    @classmethod
    def from_settings(cls, settings: Settings) -> Tiles:
        return cls(settings.map_tile_url, settings.map_tile_attribution)


OPENSTREETMAP = Tiles()


def render_map(rows: pd.DataFrame, path: str | Path, tiles: Tiles = OPENSTREETMAP) -> MapSummary:
    """Write the map of the processed manifest rows to path as one HTML file."""
    manifest = rows.reindex(columns=COLUMNS)
    accepted = manifest[manifest["status"] == PROCESSED]
    accepted = accepted.assign(
        lat=pd.to_numeric(accepted["lat"], errors="coerce"),
        lon=pd.to_numeric(accepted["lon"], errors="coerce"),
        label=accepted["label"].fillna(UNLABELLED),
    )
    placed = accepted[accepted["lat"].notna() & accepted["lon"].notna()]
    labels = dict(sorted(Counter(placed["label"]).items()))
    colours = crop_colours(labels)

    fmap = framed_map(placed, tiles)
    cluster = MarkerCluster(name="photos").add_to(fmap)
    inline_assets(fmap, cluster)
    Dots([dot(row, colours[row.label]) for row in placed.itertuples(index=False)]).add_to(cluster)
    summary = MapSummary(mapped=len(placed), without_gps=len(accepted) - len(placed), labels=labels)
    page = fmap.get_root().html
    page.add_child(RawHtml(legend_html(labels, colours)))
    page.add_child(RawHtml(no_gps_html(summary.without_gps, len(accepted))))
    fmap.save(str(path))
    return summary


class Dots(MacroElement):
    """Every dot of the map from one JSON array and one loop of script.

    folium's own CircleMarker writes (and compiles) three scripts per dot, which took ~1 s per
    400 dots; this is one script whatever the count, never compiled. `tojson` escapes <, > and
    & inside it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = {{ this.dots|tojson }};
            {{ this.get_name() }}.forEach(function (dot) {
                L.circleMarker([dot.lat, dot.lon], {
                    radius: 8, color: dot.colour, fillColor: dot.colour, fillOpacity: 0.85
                }).bindPopup(dot.popup, {maxWidth: 240})
                  .bindTooltip(dot.label)
                  .addTo({{ this._parent.get_name() }});
            });
        {% endmacro %}
        """
    )

    def __init__(self, dots: list[dict]):
        super().__init__()
        self._name = "dots"
        self.dots = dots

    def render(self, **kwargs):
        """The script, added to the page as it is: MacroElement.render would compile it, with
        the labels, camera names and ids inside, as a Jinja template."""
        script = self._template.module.__dict__["script"](self, kwargs)
        self.get_root().script.add_child(RawHtml(script), name=self.get_name())


class RawHtml(Element):
    """HTML put in the page as it is. folium.Element(html) would compile it as a Jinja template:
    a crop folder named `{{ 7*7 }}` would show 49, and every inlined script costs a compile."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str):
        super().__init__()
        self.text = text


def dot(row, colour: str) -> dict:
    """One placed image as the page's script draws it."""
    return {"lat": row.lat, "lon": row.lon, "colour": colour, "label": as_html(row.label),
            "popup": popup_html(row)}


def crop_colours(labels: dict[str, int]) -> dict[str, str]:
    """A colour per label: sorted labels take the palette in turn, unlabelled is grey."""
    named = sorted(label for label in labels if label != UNLABELLED)
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(named)}
    return colours | {UNLABELLED: UNLABELLED_COLOUR}


def inline_assets(fmap: folium.Map, cluster: MarkerCluster) -> None:
    """Put the vendored scripts and styles in the page instead of folium's CDN links.

    jQuery, Bootstrap and the awesome-markers plugin, which folium also links by default, are
    not used by this map.
    """
    for element in (fmap, cluster):
        element.default_js, element.default_css = [], []
    header = fmap.get_root().header
    for path in map_assets.STYLESHEETS:
        header.add_child(RawHtml(f"<style>{map_assets.vendored_text(path)}</style>"))
    for path in map_assets.SCRIPTS:
        header.add_child(RawHtml(f"<script>{map_assets.vendored_text(path)}</script>"))


def framed_map(placed: pd.DataFrame, tiles: Tiles) -> folium.Map:
    """A map framing the placed images, or the whole world when there are none."""
    options = {"tiles": tiles.url, "attr": tiles.attribution, "control_scale": True}
    if placed.empty:
        return folium.Map(location=WORLD_CENTRE, zoom_start=WORLD_ZOOM, **options)
    south_west = [placed["lat"].min(), placed["lon"].min()]
    north_east = [placed["lat"].max(), placed["lon"].max()]
    fmap = folium.Map(location=[placed["lat"].mean(), placed["lon"].mean()], **options)
    fmap.fit_bounds([south_west, north_east], padding=(30, 30), max_zoom=CLOSEST_ZOOM)
    return fmap


def popup_html(row) -> str:
    """Thumbnail, crop, capture time, camera and id of one image."""
    thumbnail = ""
    if isinstance(row.thumbnail, bytes):
        encoded = base64.b64encode(row.thumbnail).decode("ascii")
        thumbnail = (
            f'<img src="data:image/jpeg;base64,{encoded}" alt="thumbnail"'
            ' style="max-width:200px;max-height:160px;display:block;margin-bottom:4px">'
        )
    captured = taken_at(row)
    camera = f"<br>{as_html(row.camera)}" if isinstance(row.camera, str) else ""
    image_id = f'<code style="font-size:10px;word-break:break-all">{as_html(row.image_id)}</code>'
    return (
        f"<div>{thumbnail}<b>{as_html(row.label)}</b><br>{as_html(captured)}{camera}"
        f"<br>{image_id}</div>"
    )


def taken_at(row) -> str:
    """When the photo was taken: captured_at (UTC) when its zone is known, else its local time,
    said to be one."""
    if isinstance(row.captured_at, str):
        return row.captured_at
    if isinstance(row.captured_at_local, str):
        return f"{row.captured_at_local} (local time, zone unknown)"
    return "capture time unknown"


def legend_html(labels: dict[str, int], colours: dict[str, str]) -> str:
    """The colour key, with how many dots each crop has."""
    entries = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;'
        f'margin-right:6px;background:{colours[label]}"></span>{as_html(label)} ({count})</div>'
        for label, count in labels.items()
    )
    return (
        f'<div id="legend" style="{BOX_STYLE} bottom: 30px; right: 10px;">'
        f"<b>Crops</b>{entries or '<div>no images with GPS</div>'}</div>"
    )


def no_gps_html(without_gps: int, total: int) -> str:
    """The box owning up to the images that are not on the map."""
    verb = "has no GPS and is" if without_gps == 1 else "have no GPS and are"
    return (
        f'<div id="no-gps" style="{BOX_STYLE} top: 10px; right: 10px;">'
        f"{without_gps} of {total} images {verb} not shown</div>"
    )


def as_html(text: str) -> str:
    """Text made safe inside HTML."""
    return html.escape(str(text))

"""The map of where photos were taken: what it places, what it says, what it leaves off."""

from __future__ import annotations

import base64
import io
import json
import math
import re

import pandas as pd
import pytest
from PIL import Image

from batch.image_map import (
    PALETTE,
    UNLABELLED_COLOUR,
    MapSummary,
    Tiles,
    crop_colours,
    render_map,
)


def thumbnail(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def row(image_id, label="maize", status="processed", lat=42.03, lon=-93.63, **extra) -> dict:
    return {
        "image_id": image_id,
        "label": label,
        "status": status,
        "lat": lat,
        "lon": lon,
        "captured_at": "2026-06-09T13:56:15",
        "camera": "Google Pixel 7a",
        "thumbnail": thumbnail("green"),
        **extra,
    }


def render(tmp_path, rows: list[dict]) -> tuple[MapSummary, str]:
    path = tmp_path / "map.html"
    summary = render_map(pd.DataFrame(rows), path)
    return summary, path.read_text(encoding="utf-8")


def dots(page: str) -> list[dict]:
    """The dots the page's script draws, read back from its one JSON array."""
    match = re.search(r"var dots_\w+ = (\[.*\]);\n", page)
    return json.loads(match.group(1)) if match else []


@pytest.fixture
def field_rows() -> list[dict]:
    """Two maize and a wheat photo with GPS, two without, and a rejected one with GPS."""
    return [
        row("maize-1"),
        row("maize-2", lat=42.05, lon=-93.60),
        row("wheat-1", label="wheat", lat=38.84, lon=-97.61),
        row("maize-nogps", lat=math.nan, lon=math.nan),
        row("wheat-nogps", label="wheat", lat=None, lon=None),
        row("rejected-1", status="rejected"),
    ]


def test_accepted_images_with_gps_are_mapped_and_the_rest_counted(tmp_path, field_rows):
    summary, _ = render(tmp_path, field_rows)

    assert summary == MapSummary(mapped=3, without_gps=2, labels={"maize": 2, "wheat": 1})


def test_each_mapped_image_is_a_marker_whose_popup_shows_its_thumbnail_and_facts(
    tmp_path, field_rows
):
    field_rows[0]["thumbnail"] = thumbnail("red")
    _, page = render(tmp_path, field_rows)

    placed = dots(page)
    assert [(dot["lat"], dot["lon"]) for dot in placed] == [
        (42.03, -93.63), (42.05, -93.60), (38.84, -97.61)
    ]
    assert page.count("L.circleMarker(") == 1, "one loop draws them all"
    assert "L.markerClusterGroup(" in page
    encoded = base64.b64encode(field_rows[0]["thumbnail"]).decode("ascii")
    assert f'src="data:image/jpeg;base64,{encoded}"' in placed[0]["popup"]
    assert all("data:image/jpeg;base64," in dot["popup"] for dot in placed)
    for dot, image_id in zip(placed, ("maize-1", "maize-2", "wheat-1"), strict=True):
        assert f">{image_id}</code>" in dot["popup"]
        assert "2026-06-09T13:56:15" in dot["popup"]
        assert "Google Pixel 7a" in dot["popup"]


def test_images_without_gps_or_rejected_get_no_marker(tmp_path, field_rows):
    _, page = render(tmp_path, field_rows)

    for image_id in ("maize-nogps", "wheat-nogps", "rejected-1"):
        assert image_id not in page


def test_a_box_says_how_many_images_have_no_gps(tmp_path, field_rows):
    _, page = render(tmp_path, field_rows)

    assert "2 of 5 images have no GPS and are not shown" in page


def test_the_box_speaks_of_a_single_missing_image_in_the_singular(tmp_path):
    _, page = render(tmp_path, [row("placed"), row("lost", lat=None)])

    assert "1 of 2 images has no GPS and is not shown" in page


def test_the_legend_lists_each_crop_with_its_colour_and_count(tmp_path, field_rows):
    _, page = render(tmp_path, field_rows)
    legend = page[page.index('<div id="legend"') :].split("</div></div>")[0]

    assert f'background:{PALETTE[0]}"></span>maize (2)' in legend
    assert f'background:{PALETTE[1]}"></span>wheat (1)' in legend
    colours = {dot["label"]: dot["colour"] for dot in dots(page)}
    assert colours == {"maize": PALETTE[0], "wheat": PALETTE[1]}  # dots wear their crop's colour


def test_images_without_a_label_are_shown_as_unlabelled_in_grey(tmp_path):
    summary, page = render(tmp_path, [row("who-knows", label=None)])

    assert summary.labels == {"unlabelled": 1}
    assert f'background:{UNLABELLED_COLOUR}"></span>unlabelled (1)' in page
    assert [dot["colour"] for dot in dots(page)] == [UNLABELLED_COLOUR]


def test_crop_colours_depend_on_the_labels_not_their_order():
    assert crop_colours({"wheat": 1, "maize": 5}) == crop_colours({"maize": 2, "wheat": 9})
    assert crop_colours({"wheat": 1, "maize": 5})["maize"] == PALETTE[0]
    assert crop_colours({"unlabelled": 1})["unlabelled"] == UNLABELLED_COLOUR


def test_the_map_is_fitted_to_the_mapped_points(tmp_path, field_rows):
    _, page = render(tmp_path, field_rows)

    assert "fitBounds(\n                [[38.84, -97.61], [42.05, -93.6]]" in page


def test_an_empty_manifest_still_gives_a_world_map_with_the_count_box(tmp_path):
    path = tmp_path / "map.html"

    summary = render_map(pd.DataFrame(), path)

    page = path.read_text(encoding="utf-8")
    assert summary == MapSummary(mapped=0, without_gps=0, labels={})
    assert '"zoom": 2' in page
    assert not re.search(r"map_\w+\.fitBounds\(", page), "no fitting to bounds"
    assert "0 of 0 images have no GPS and are not shown" in page
    assert "no images with GPS" in page


def test_a_manifest_without_any_gps_gives_a_world_map_with_the_count_box(tmp_path):
    rows = [row(f"lost-{i}", lat=None, lon=None, thumbnail=None) for i in range(3)]

    summary, page = render(tmp_path, rows)

    assert summary == MapSummary(mapped=0, without_gps=3, labels={})
    assert '"zoom": 2' in page
    assert "3 of 3 images have no GPS and are not shown" in page


def test_an_image_without_thumbnail_or_capture_time_still_gets_a_popup(tmp_path):
    _, page = render(tmp_path, [row("bare", thumbnail=None, captured_at=None, camera=None)])

    (dot,) = dots(page)
    assert ">bare</code>" in dot["popup"]
    assert "data:image/jpeg" not in dot["popup"]
    assert "capture time unknown" in dot["popup"]


def test_a_capture_time_whose_zone_is_unknown_shows_as_a_local_time(tmp_path):
    _, page = render(tmp_path, [
        row("local", captured_at=None, captured_at_local="2026-06-09T15:56:15"),
        row("utc", captured_at="2026-06-09T13:56:15Z", captured_at_local="2026-06-09T15:56:15"),
    ])

    local, utc = dots(page)
    assert "2026-06-09T15:56:15 (local time, zone unknown)" in local["popup"]
    assert "2026-06-09T13:56:15Z" in utc["popup"] and "local time" not in utc["popup"]


def test_text_from_uploads_cannot_inject_markup_or_script(tmp_path):
    hostile = "<script>alert(1)</script>"

    _, page = render(tmp_path, [row("x", label=hostile, camera=hostile)])

    assert "<script>alert(1)" not in page
    assert "</script>" not in page.split("var dots_")[1].split("\n")[0], "cannot end the script"
    (dot,) = dots(page)
    assert dot["label"] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert dot["popup"].count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2


def test_the_page_loads_no_script_or_stylesheet_from_the_network(tmp_path, field_rows):
    _, page = render(tmp_path, field_rows)

    assert not re.search(r"<script[^>]*\ssrc=", page)
    assert not re.search(r"<link[^>]*stylesheet", page)
    assert "L.markerClusterGroup" in page, "inline, from the vendored files"


def test_the_tiles_come_from_the_url_given(tmp_path, field_rows):
    tiles = Tiles("http://tiles.example.org/{z}/{x}/{y}.png", "&copy; the farm's own tiles")

    render_map(pd.DataFrame(field_rows), tmp_path / "map.html", tiles)

    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "http://tiles.example.org/{z}/{x}/{y}.png" in page
    assert "tile.openstreetmap.org" not in page


def test_text_from_folder_names_and_exif_is_not_read_as_a_template(tmp_path):
    _, page = render(tmp_path, [row("id{{ 6*7 }}", label="{{ 7*7 }}", camera="{{ 8*8 }}")])

    assert "{{ 7*7 }} (1)" in page
    assert "49 (1)" not in page
    (dot,) = dots(page)
    assert dot["label"] == "{{ 7*7 }}"
    assert ">id{{ 6*7 }}</code>" in dot["popup"] and "{{ 8*8 }}" in dot["popup"]

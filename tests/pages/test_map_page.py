"""GET /map in headless chromium, cut off from everything but the API: the markers show, and a
popup corrects its photo's label."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from PIL import Image
from playwright.sync_api import expect

from adapters.elasticsearch_client import make_elasticsearch_client
from infra.processes import free_port
from tests.ingest_api.apps import device_token, running_app
from tests.ingest_api.map_index import MapIndex
from tests.ingest_api.processed_photos import own_dataset, write_photo
from tests.pages.live_site import offline_except, served


@pytest.fixture
def map_site(es_stack):
    """The API serving a map index of four photos, one without GPS; tiles from a closed port."""
    index = MapIndex(es_stack)
    index.add(label="maize", lat=45.07, lon=7.68, gps_source="exif", device_id="phone-a",
              captured_at="2024-06-01T12:30:00Z")
    index.add(label="maize", lat=45.071, lon=7.681, gps_source="exif", device_id="phone-a",
              captured_at="2024-06-01T12:31:00Z")
    index.add(label="wheat", lat=44.90, lon=7.50, gps_source="client", device_id="phone-b",
              captured_at="2024-06-03T09:00:00Z", thumbnail=jpeg())
    index.add(label="rice", gps_source="none", device_id="phone-b",
              captured_at="2024-06-03T10:00:00Z")
    settings = replace(
        index.settings, map_tile_url=f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"
    )
    with running_app(settings) as app, served(app) as base_url:
        yield base_url, device_token(settings.api_token_store), index
    index.remove()


@pytest.fixture
def correctable_site(es_stack, s3_stack):
    """The API over a map index and a dataset holding two processed photos, maize and wheat."""
    index = MapIndex(es_stack)
    with own_dataset(index.settings) as settings:
        maize = write_photo(settings, seed=11, client_lat=45.07, client_lon=7.68)
        write_photo(settings, seed=12, label="wheat", client_lat=44.0, client_lon=8.0)
        with running_app(settings) as app, served(app) as base_url:
            yield base_url, device_token(settings.api_token_store), app, settings, maize
    index.remove()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "olive").save(buffer, format="JPEG")
    return buffer.getvalue()


def test_the_map_shows_its_markers_offline(browser, map_site):
    base_url, token, index = map_site
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    refused = offline_except(context, base_url)
    context.add_init_script(f"localStorage.setItem('ingest_api.token', {token!r})")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{base_url}/map")

    markers = page.locator("path.leaflet-interactive")  # circle markers, drawn as SVG paths
    legend = page.locator("#legend .legend-entry")
    expect(legend).to_have_text(["maize (2)", "wheat (1)"])
    expect(page.locator("#no-gps")).to_contain_text("1 photo has no GPS")
    expect(page.locator(".marker-cluster")).to_have_text(["2"])  # the two maize, 100 m apart
    expect(page.locator(".marker-cluster div")).to_have_css(
        "background-color", "rgb(31, 119, 180)"  # maize's colour, as in the legend
    )
    expect(page.locator(".legend-entry .swatch").first).to_have_css(
        "background-color", "rgb(31, 119, 180)"
    )
    expect(markers).to_have_count(1)
    expect(markers).to_be_visible()
    markers.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("wheat")
    expect(popup).to_contain_text("device phone-b")
    expect(popup.locator("a")).to_have_attribute("href", re.compile(r"^/images/[0-9a-f]{64}$"))
    expect(popup.locator("img")).to_have_js_property("naturalWidth", 32)  # fetched with the token

    page.select_option("select[name=crop]", "wheat")
    expect(legend).to_have_text(["wheat (1)"])
    expect(page.locator("#no-gps")).to_contain_text("0 photos have no GPS")
    expect(markers).to_have_count(1)
    expect(page.locator(".marker-cluster")).to_have_count(0)

    index.add(label="wheat", lat=44.0, lon=8.0, captured_at="2024-06-04T09:00:00Z")
    expect(legend).to_have_text(["wheat (2)"], timeout=15_000)  # the next refresh, no reload

    assert not errors, errors
    assert all("127.0.0.1" in url for url in refused), "only the closed tile port was asked"
    context.close()


def test_a_page_without_token_asks_for_one(browser, map_site):
    base_url, token, _ = map_site
    context = browser.new_context()
    offline_except(context, base_url)
    page = context.new_page()

    page.goto(f"{base_url}/map")
    page.fill("#token-dialog input", token)
    page.click("#token-dialog button")

    expect(page.locator("#legend .legend-entry")).to_have_count(2)
    assert page.evaluate("localStorage.getItem('ingest_api.token')") == token
    context.close()


def test_a_popup_corrects_its_photos_label(browser, correctable_site):
    base_url, token, app, settings, maize = correctable_site
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    offline_except(context, base_url)
    context.add_init_script(f"localStorage.setItem('ingest_api.token', {token!r})")
    page = context.new_page()
    page.goto(f"{base_url}/map")
    legend = page.locator("#legend .legend-entry")
    expect(legend).to_have_text(["maize (1)", "wheat (1)"])
    marker = page.locator("path.leaflet-interactive[stroke='#1f77b4']")  # maize's colour

    marker.click()
    popup = page.locator(".leaflet-popup-content")
    said = popup.locator("output")
    popup.locator("input[name=label]").fill("Wheat!")
    popup.locator("button").click()
    expect(said).to_have_text("label must be 1 to 64 characters among a-z, 0-9, '_' and '-'")

    popup.locator("input[name=label]").fill("wheat")
    popup.locator("button").click()
    expect(said).to_have_text("now wheat (was maize)")
    expect(popup.locator("b")).to_have_text("wheat")
    expect(marker).to_have_count(0)  # recoloured at once: both markers are wheat's orange
    expect(page.locator("path.leaflet-interactive[stroke='#ff7f0e']")).to_have_count(2)
    expect(legend).to_have_text(["wheat (2)"], timeout=15_000)  # the next refresh

    [entry] = app.test_client().get(f"/images/{maize['image_id']}/labels").json["history"]
    assert (entry["old_label"], entry["new_label"]) == ("maize", "wheat")
    es = make_elasticsearch_client(settings.elasticsearch_url)
    document = es.get(index=settings.elasticsearch_index, id=maize["image_id"])["_source"]
    assert document["label"] == "wheat"
    context.close()

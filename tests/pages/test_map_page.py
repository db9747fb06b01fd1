"""GET /map in headless chromium, cut off from everything but the API: the markers show, a popup
shows its photo's record in the page and corrects its label, a refused token is said in words,
the search box finds a photo by its id, what the filters show is exported as GeoJSON and CSV, and
the markers are coloured by label or by the model's prediction, filtered on both."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import replace

import pytest
from PIL import Image
from playwright.sync_api import expect

from adapters.elasticsearch_client import make_elasticsearch_client
from infra.processes import free_port
from tests.ingest_api.apps import device_token, running_app
from tests.ingest_api.map_index import MapIndex
from tests.ingest_api.processed_photos import own_dataset, write_photo
from tests.model.tiny_models import colour_classifier, register_tiny
from tests.pages.live_site import offline_except, served


@pytest.fixture
def map_site(es_stack):
    """The API serving a map index of four photos, one without GPS; tiles from a closed port."""
    index = MapIndex(es_stack)
    index.rows = {
        "maize": dict(label="maize", lat=45.07, lon=7.68, gps_source="exif", device_id="phone-a",
                      captured_at="2024-06-01T12:30:00Z", captured_at_local="2024-06-01T14:30:00"),
        "maize_2": dict(label="maize", lat=45.071, lon=7.681, gps_source="exif",
                        device_id="phone-a", captured_at="2024-06-01T12:31:00Z",
                        captured_at_local="2024-06-01T14:31:00"),
        "wheat": dict(label="wheat", lat=44.90, lon=7.50, gps_source="client",
                      device_id="phone-b", captured_at="2024-06-03T09:00:00Z", thumbnail=jpeg(),
                      format="JPEG", width=640, height=480, camera="Acme Field 2"),
        "rice": dict(label="rice", gps_source="none", device_id="phone-b",
                     captured_at="2024-06-03T10:00:00Z"),
    }
    index.ids = {name: index.add(**row) for name, row in index.rows.items()}
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
    correct = popup.get_by_role("button", name="Correct")
    popup.locator("input[name=label]").fill("Wheat!")
    correct.click()
    expect(said).to_have_text("label must be 1 to 64 characters among a-z, 0-9, '_' and '-'")

    popup.locator("input[name=label]").fill("wheat")
    correct.click()
    expect(said).to_have_text("now wheat (was maize)")
    expect(popup.locator("b")).to_have_text("wheat")
    expect(marker).to_have_count(0)  # recoloured at once: both markers are wheat's orange
    expect(page.locator("path.leaflet-interactive[stroke='#ff7f0e']")).to_have_count(2)
    expect(legend).to_have_text(["wheat (2)"], timeout=15_000)  # the next refresh
    find(page, maize["image_id"])
    popup.get_by_role("button", name="record").click()
    expect(page.locator("#record-dialog .corrections")).to_contain_text("maize → wheat")

    [entry] = app.test_client().get(f"/images/{maize['image_id']}/labels").json["history"]
    assert (entry["old_label"], entry["new_label"]) == ("maize", "wheat")
    es = make_elasticsearch_client(settings.elasticsearch_url)
    document = es.get(index=settings.elasticsearch_index, id=maize["image_id"])["_source"]
    assert document["label"] == "wheat"
    context.close()


def open_map(browser, base_url, token):
    """A page of the map in a new offline context, with `token` kept as if given before."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    offline_except(context, base_url)
    context.add_init_script(f"localStorage.setItem('ingest_api.token', {token!r})")
    page = context.new_page()
    page.goto(f"{base_url}/map")
    return page


def test_a_popups_record_shows_in_the_page_in_words(browser, map_site):
    base_url, token, index = map_site
    page = open_map(browser, base_url, token)
    wheat = page.locator("path.leaflet-interactive")

    wheat.click()
    page.locator(".leaflet-popup-content").get_by_role("button", name="record").click()

    record = page.locator("#record-dialog")
    expect(record).to_be_visible()
    expect(page.locator("#record-title")).to_have_text(f"wheat, photo {index.ids['wheat'][:12]}…")
    rows = record.locator("dl")
    for name, value in [
        ("Crop", "wheat"), ("Status", "processed"), ("Taken at", "2024-06-03T09:00:00Z"),
        ("Position", "44.900000, 7.500000 (sent with the upload)"), ("Camera", "Acme Field 2"),
        ("Sent by device", "phone-b"), ("Original", "JPEG, 640 × 480 pixels"),
        ("Image id", index.ids["wheat"]),
    ]:
        expect(rows.locator(f"dt:text-is('{name}') + dd")).to_have_text(value)
    record.locator("summary").click()
    assert json.loads(record.locator("pre").inner_text())["image_id"] == index.ids["wheat"]
    assert len(page.context.pages) == 1, "no tab opened"

    record.get_by_role("button", name="close").click()
    expect(record).to_be_hidden()
    page.context.close()


def test_a_photo_whose_zone_is_unknown_shows_its_local_time_said_so(browser, map_site):
    base_url, token, index = map_site
    index.add(label="oats", lat=46.0, lon=9.0, gps_source="exif", device_id="phone-c",
              captured_at_local="2024-06-04T23:30:00")
    page = open_map(browser, base_url, token)
    page.select_option("select[name=crop]", "oats")
    expect(page.locator("#legend .legend-entry")).to_have_text(["oats (1)"])

    page.locator("path.leaflet-interactive").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("2024-06-04T23:30:00 (local time, zone unknown)")
    popup.get_by_role("button", name="record").click()

    taken = page.locator("#record-dialog dl dt:text-is('Taken at') + dd")
    expect(taken).to_have_text("2024-06-04T23:30:00 (local time, zone unknown)")
    page.context.close()


def test_a_token_never_issued_is_refused_in_words_and_the_right_one_shows_the_map(
    browser, map_site
):
    base_url, token, _ = map_site
    page = open_map(browser, base_url, "A" * 43)

    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#token-refused")).to_have_text(
        "That token was refused: this token was never issued; ask for a device token"
    )
    assert page.evaluate("localStorage.getItem('ingest_api.token')") is None

    page.fill("#token-dialog input", token)
    page.click("#token-dialog button")
    expect(page.locator("#legend .legend-entry")).to_have_count(2)
    expect(dialog).to_be_hidden()
    page.context.close()


def test_the_record_asks_for_a_token_again_when_the_kept_one_is_refused(browser, map_site):
    base_url, token, _ = map_site
    page = open_map(browser, base_url, token)
    expect(page.locator("#legend .legend-entry")).to_have_count(2)
    page.evaluate("localStorage.setItem('ingest_api.token', 'B'.repeat(43))")

    page.locator("path.leaflet-interactive").click()
    page.locator(".leaflet-popup-content").get_by_role("button", name="record").click()

    expect(page.locator("#token-refused")).to_have_text(
        "That token was refused: this token was never issued; ask for a device token"
    )
    expect(page.locator("#record-dialog")).to_be_hidden()
    page.context.close()


def find(page, text: str) -> None:
    page.fill("#find input", text)
    page.click("#find button")


def test_find_a_photo_by_the_start_of_its_id(browser, map_site):
    base_url, token, index = map_site
    page = open_map(browser, base_url, token)
    expect(page.locator(".marker-cluster")).to_have_text(["2"])
    popup = page.locator(".leaflet-popup-content")
    notice = page.locator("#notice")

    find(page, index.ids["maize_2"][:8].upper())  # inside the cluster: zoomed to, then opened
    expect(popup).to_contain_text("2024-06-01T12:31:00Z")
    expect(popup.locator("code")).to_have_text(index.ids["maize_2"])
    expect(notice).to_have_text("")

    find(page, index.ids["wheat"])  # the whole id
    expect(popup.locator("code", has_text=index.ids["wheat"])).to_be_visible()
    expect(popup).to_have_count(1)  # the first one closed

    find(page, index.ids["rice"][:6])
    expect(notice).to_have_text(
        f"photo {index.ids['rice'][:12]}… (rice) has no GPS, so it is not on the map"
        " show its record"
    )
    notice.get_by_role("button", name="show its record").click()
    expect(page.locator("#record-dialog dl")).to_contain_text("none: the photo had no GPS")
    page.locator("#record-dialog").get_by_role("button", name="close").click()

    page.select_option("select[name=crop]", "maize")
    expect(page.locator("#legend .legend-entry")).to_have_text(["maize (2)"])
    find(page, index.ids["wheat"][:10])
    expect(notice).to_contain_text(f"photo {index.ids['wheat'][:12]}… (wheat) is not on the map:"
                                   " the filters hide it")
    page.context.close()


def test_find_says_when_no_id_or_several_start_so_or_the_photo_was_rejected(browser, map_site):
    base_url, token, index = map_site
    for n in range(2):
        index.add(image_id=f"abcabc{n:058x}", label="maize", lat=45.0, lon=7.0)
    rejected = index.add(status="rejected", reason="corrupt", lat=45.0, lon=7.0,
                         error="the file ends before the image does")
    page = open_map(browser, base_url, token)
    notice = page.locator("#notice")

    find(page, "0" * 64)
    expect(notice).to_have_text(f"no photo has the id {'0' * 64} (or it is not processed yet)")
    find(page, "ABCABC")
    expect(notice).to_have_text("2 photos' ids start with abcabc: type more of the id")
    find(page, "abcabd")
    expect(notice).to_have_text("no photo's id starts with abcabd (or it is not processed yet)")
    find(page, rejected[:9])
    expect(notice).to_have_text(f"photo {rejected[:12]}… (no label) was rejected: the file ends"
                                " before the image does show its record")
    page.context.close()


def download(page, button: str):
    with page.expect_download() as started:
        page.click(f"#export button:text-is('{button}')")
    saved = started.value
    with open(saved.path(), encoding="utf-8", newline="") as file:
        return saved.suggested_filename, file.read()


def test_exports_hold_exactly_the_points_the_filters_show(browser, map_site):
    base_url, token, index = map_site
    page = open_map(browser, base_url, token)
    legend = page.locator("#legend .legend-entry")
    expect(legend).to_have_count(2)

    name, text = download(page, "GeoJSON")
    assert name == "photos.geojson"
    features = json.loads(text)["features"]
    assert sorted(feature["id"] for feature in features) == sorted(
        index.ids[photo] for photo in ("maize", "maize_2", "wheat"))
    wheat = next(feature for feature in features if feature["id"] == index.ids["wheat"])
    assert wheat["geometry"] == {"type": "Point", "coordinates": [7.50, 44.90]}
    assert wheat["properties"] == {
        "image_id": index.ids["wheat"], "label": "wheat", "captured_at": "2024-06-03T09:00:00Z",
        "captured_at_local": None, "device_id": "phone-b", "gps_source": "client",
        "prediction": None, "prediction_confidence": None, "model_version": None,
    }
    expect(page.locator("#notice")).to_have_text(
        "3 photos saved as photos.geojson; 1 without GPS is not in it")

    page.select_option("select[name=crop]", "maize")
    page.fill("input[name=from]", "2024-06-01")
    expect(legend).to_have_text(["maize (2)"])
    name, text = download(page, "CSV")
    assert name == "photos_crop-maize_from-2024-06-01.csv"
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = [index.rows[photo] | {"image_id": index.ids[photo]} for photo in
                ("maize_2", "maize")]  # newest first, as the map lists them
    assert rows == [
        {**{column: str(row[column]) for column in
            ("image_id", "label", "lat", "lon", "captured_at", "captured_at_local", "device_id",
             "gps_source")}, "prediction": "", "prediction_confidence": "", "model_version": ""}
        for row in expected
    ]

    device = page.locator("input[name=device]")
    device.fill("=2+3")  # a spreadsheet would run it
    device.dispatch_event("change")
    expect(page.locator("#no-gps")).to_contain_text("0 photos have no GPS")
    index.add(label="maize", lat=45.1, lon=7.1, device_id="=2+3",
              captured_at="2024-06-02T08:00:00Z")
    [row] = csv.DictReader(io.StringIO(download(page, "CSV")[1]))
    assert (row["device_id"], row["lat"]) == ("'=2+3", "45.1")
    page.context.close()


MAIZE, WHEAT, GREY = "#1f77b4", "#ff7f0e", "#7f7f7f"  # the crops' colours, sorted: maize, wheat


@pytest.fixture
def predicted_site(es_stack, mlflow_stack, tmp_path):
    """The API over three placed photos, far apart: maize predicted maize, maize predicted wheat
    (by a version registered in the real MLflow), and wheat not predicted."""
    index = MapIndex(es_stack)
    settings = replace(index.settings, mlflow_tracking_uri=mlflow_stack.mlflow_tracking_uri,
                       model_name=f"map-{uuid.uuid4().hex[:8]}", model_cache_dir=str(tmp_path),
                       map_tile_url=f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png")
    version = register_tiny(settings, colour_classifier(("maize", "wheat")), snapshot="june")
    index.ids = {
        "right": index.add(label="maize", lat=45.0, lon=7.0, prediction="maize",
                           prediction_confidence=0.9, model_version=version),
        "wrong": index.add(label="maize", lat=46.0, lon=8.0, prediction="wheat",
                           prediction_confidence=0.8, model_version=version),
        "unpredicted": index.add(label="wheat", lat=47.0, lon=9.0),
    }
    with running_app(settings) as app, served(app) as base_url:
        yield base_url, device_token(settings.api_token_store), version
    index.remove()


def markers_coloured(page, colour: str):
    return page.locator(f"path.leaflet-interactive[stroke='{colour}']")


def test_the_map_colours_by_label_or_by_prediction_and_popups_show_both(browser, predicted_site):
    base_url, token, version = predicted_site
    page = open_map(browser, base_url, token)
    legend = page.locator("#legend .legend-entry")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    expect(legend).to_have_text(["maize (2)", "wheat (1)"])
    expect(page.locator("#legend-title")).to_have_text("Crops by label")
    expect(markers_coloured(page, MAIZE)).to_have_count(2)

    page.get_by_label("prediction", exact=True).check()

    expect(page.locator("#legend-title")).to_have_text("Crops by prediction")
    expect(legend).to_have_text(["maize (1)", "not predicted (1)", "wheat (1)"])
    for colour in (MAIZE, WHEAT, GREY):
        expect(markers_coloured(page, colour)).to_have_count(1)
    markers_coloured(page, WHEAT).click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup.locator("b.label")).to_have_text("maize")
    expect(popup.locator(".prediction")).to_have_text(
        f"predicted wheat (80 %, model version {version}), not its label")
    popup.get_by_role("button", name="record").click()
    rows = page.locator("#record-dialog dl")
    # The first record asks MLflow for the model's lineage: seconds on a loaded machine.
    expect(rows.locator("dt:text-is('Predicted crop') + dd")).to_have_text(
        f"wheat (80 % confident, model version {version}), not its label", timeout=30_000)
    expect(rows.locator("dt:text-is('Prediction made by') + dd")).to_contain_text(
        f"version {version} (MLflow run ")
    expect(rows.locator("dt:text-is('Prediction made by') + dd")).to_contain_text(
        "trained on snapshot june of s3://tests/dataset (Delta version 4)")
    page.locator("#record-dialog").get_by_role("button", name="close").click()

    page.get_by_label("label", exact=True).check()
    expect(legend).to_have_text(["maize (2)", "wheat (1)"])
    expect(markers_coloured(page, MAIZE)).to_have_count(2)
    assert not errors, errors
    page.context.close()


def test_the_map_shows_only_predictions_that_differ_from_the_label_or_that_confident(
    browser, predicted_site
):
    base_url, token, _ = predicted_site
    page = open_map(browser, base_url, token)
    legend = page.locator("#legend .legend-entry")
    page.get_by_label("prediction", exact=True).check()
    expect(legend).to_have_count(3)

    page.get_by_label("prediction ≠ label").check()
    expect(legend).to_have_text(["wheat (1)"])

    page.get_by_label("prediction ≠ label").uncheck()
    page.get_by_label("lowest confidence").fill("0.85")
    page.get_by_label("lowest confidence").dispatch_event("change")
    expect(legend).to_have_text(["maize (1)"])

    page.get_by_label("highest confidence").fill("0.5")
    page.get_by_label("highest confidence").dispatch_event("change")
    expect(page.locator("#status")).to_have_text("the confidence range ends before it starts")
    page.context.close()

"""GET /review in headless chromium, at phone width: the queue's photos as cards, the one most
needing a person first; a key press or a click confirms or corrects it through
PUT /images/<id>/label, and the card leaves the page and the queue."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from adapters.object_store import open_store
from dataset.label_corrections import CorrectionLog
from kit.photos import encode, photo_like
from tests.ingest_api.apps import device_token, running_app
from tests.ingest_api.map_index import MapIndex
from tests.ingest_api.processed_photos import own_dataset
from tests.pages.live_site import offline_except, served

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def site(es_stack, s3_stack):
    """The API on a local port, over an index and a dataset root of the test's own, with three
    predicted photos: a hesitant maize, a wheat labelled maize, a sure rice."""
    index = MapIndex(replace(es_stack, s3=s3_stack.s3))
    thumbnail = encode(photo_like(64, 64, seed=3), "jpeg")

    def predicted(crop: str, margin: float, label: str) -> str:
        return index.add(label=label, prediction=crop, prediction_confidence=0.5,
                         prediction_margin=margin, model_version="3", thumbnail=thumbnail)

    index.ids = {"hesitant": predicted("maize", 0.05, "maize"),
                 "differs": predicted("wheat", 0.6, "maize"),
                 "sure": predicted("rice", 0.9, "rice")}
    try:
        with own_dataset(index.settings) as settings, running_app(settings) as app, \
                served(app) as url:
            index.settings, index.url = settings, url
            yield index
    finally:
        index.remove()


def open_review(browser, site) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport=PHONE)
    offline_except(context, site.url)
    token = device_token(site.settings.api_token_store)
    context.add_init_script(f"localStorage.setItem('ingest_api.token', {token!r})")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site.url}/review")
    return page, errors


def cards(page: Page):
    return page.locator("#queue li")


def reviewed(site) -> dict[str, str]:
    """image id -> the label its review left, from the label corrections."""
    log = CorrectionLog.of(open_store(site.settings.dataset_root, site.settings.s3))
    return {row["image_id"]: row["new_label"] for row in log.rows().to_pylist()}


def test_the_queue_shows_at_phone_width_the_most_needing_first(browser, site):
    page, errors = open_review(browser, site)

    expect(cards(page)).to_have_count(3)
    ids = [cards(page).nth(i).get_attribute("data-image-id") for i in range(3)]
    assert ids == [site.ids["hesitant"], site.ids["differs"], site.ids["sure"]]
    expect(cards(page).first).to_contain_text("The model hesitates")
    expect(cards(page).first).to_contain_text("Predicted maize (50%, margin 5%, model 3)")
    expect(page.locator("#status")).to_have_text(
        "3 predictions wait for a person; the most needing one is first.")
    page.wait_for_function("document.querySelector('#queue img').naturalWidth > 0")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert not errors, errors
    page.context.close()


def test_a_key_press_confirms_a_click_keeps_the_label_and_a_typed_crop_corrects(browser, site):
    page, errors = open_review(browser, site)
    expect(cards(page)).to_have_count(3)

    page.keyboard.press("1")  # the hesitant maize: the prediction is right
    expect(cards(page)).to_have_count(2)
    cards(page).first.get_by_role("button", name="2 · maize is right").click()  # not wheat
    expect(cards(page)).to_have_count(1)
    page.keyboard.press("3")
    page.keyboard.type("barley")
    page.keyboard.press("Enter")

    expect(page.locator("#status")).to_have_text("Every prediction has been reviewed.")
    assert reviewed(site) == {site.ids["hesitant"]: "maize", site.ids["differs"]: "maize",
                              site.ids["sure"]: "barley"}
    assert not errors, errors
    page.context.close()

"""A web view served from another origin calls the API behind nginx, in headless chromium (CORS).

nginx and gunicorn run as deployed, on free ports, with CORS_ORIGINS naming one small site; a
second site, not named, stands for any other origin. The browser itself sends the preflights
and decides what a page may read, so these tests are what a web view would see.
"""

from __future__ import annotations

import base64
import shutil
import uuid

import pytest
from flask import Flask

from infra.schemas import remove_topics
from infra.stack import LocalStack
from kit.stack import isolated_settings
from kit.uploads import jpeg
from tests.ingest_api.apps import device_token
from tests.pages.live_site import served

# fetch() from the page; what the page could read of the answer, or the error's name.
CALL = """async ([url, method, headers, body]) => {
  try {
    const answer = await fetch(url, {method, headers, body});
    return {status: answer.status, body: await answer.json(),
            remaining: answer.headers.get("RateLimit-Remaining"),
            requestId: answer.headers.get("X-Request-ID")};
  } catch (error) {
    return {error: error.name};
  }
}"""
UPLOAD = """async ([url, token, photo]) => {
  const bytes = Uint8Array.from(atob(photo), c => c.charCodeAt(0));
  const form = new FormData();
  form.append("file", new Blob([bytes], {type: "image/jpeg"}), "field.jpg");
  form.append("label", "maize");
  const answer = await fetch(url, {method: "POST", headers: {Authorization: "Bearer " + token},
                                   body: form});
  return {status: answer.status, body: await answer.json(),
          remaining: answer.headers.get("RateLimit-Remaining")};
}"""


@pytest.fixture(scope="module")
def sites():
    """Two small sites on their own origins: the web view CORS_ORIGINS names, and a stranger."""
    app = Flask("web_view")
    app.add_url_rule("/", "index", lambda: "<!doctype html><title>field app</title>")
    with served(app) as web_view, served(app) as stranger:
        yield web_view, stranger


@pytest.fixture(scope="module")
def api(kafka_stack, es_stack, sites):
    """The public URL of nginx and gunicorn, allowing the web view's origin; token of a device."""
    settings = isolated_settings(
        "cors-", kafka_stack,
        kafka_topic=f"cors-test-{uuid.uuid4().hex[:8]}",
        cors_origins=sites[0],
    )
    stack = LocalStack(settings)
    try:
        stack.up(["nginx"])
        yield f"http://{settings.api_host}:{settings.api_port}", device_token(
            settings.api_token_store
        )
    finally:
        stack.down()
        remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])
        shutil.rmtree(settings.stack_dir, ignore_errors=True)


@pytest.fixture
def page_on(browser):
    """A page opened on a site, in a fresh context."""
    contexts = []

    def open_on(site: str):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.goto(site)
        return page

    yield open_on
    for context in contexts:
        context.close()


def test_the_web_view_uploads_and_reads_the_answer_and_its_rate_limit(api, sites, page_on):
    url, token = api
    photo = base64.b64encode(jpeg(seed=90)).decode()

    answer = page_on(sites[0]).evaluate(UPLOAD, [f"{url}/post_image", token, photo])

    assert answer["status"] == 202, answer
    assert answer["body"]["status"] == "accepted"
    assert answer["remaining"] is not None and int(answer["remaining"]) >= 0


def test_the_web_view_reads_an_error_with_its_message_and_request_id(api, sites, page_on):
    url, token = api
    correction = [f"{url}/images/{'0' * 64}/label", "PUT",
                  {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                  '{"label": "wheat"}']

    answer = page_on(sites[0]).evaluate(CALL, correction)

    assert answer["status"] == 404, answer
    assert answer["body"]["error"] == "not_found"
    assert answer["requestId"] == answer["body"]["request_id"]


def test_a_page_on_another_origin_cannot_read_the_api(api, sites, page_on):
    url, token = api
    lookup = [f"{url}/images/{'0' * 64}", "GET", {"Authorization": f"Bearer {token}"}, None]

    answer = page_on(sites[1]).evaluate(CALL, lookup)

    assert answer == {"error": "TypeError"}  # the browser refused: no allowance for its origin

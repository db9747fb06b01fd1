"""GET /images?device=mine: the calling device's recorded photos, newest first, paged."""

from __future__ import annotations

import uuid

import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import document_of
from kit.uploads import new_image_id
from tests.ingest_api.apps import device_token, running_app


@pytest.fixture
def device(es_stack):
    """A device of this test's own, its token, and a way to index its photos."""
    name = f"lister-{uuid.uuid4().hex[:8]}"
    es = make_elasticsearch_client(es_stack.elasticsearch_url)
    written: list[str] = []

    def index(processed_at: str, device_id: str = name, **row) -> str:
        image_id = new_image_id()
        row = {"image_id": image_id, "device_id": device_id, "status": "processed", **row}
        es.index(index=es_stack.elasticsearch_index, id=image_id,
                 document=document_of(row, processed_at=processed_at), refresh="wait_for")
        written.append(image_id)
        return image_id

    yield name, device_token(es_stack.api_token_store, name), index
    for image_id in written:
        es.delete(index=es_stack.elasticsearch_index, id=image_id, refresh=True)


@pytest.fixture
def mine(es_stack, device):
    name, token, _ = device
    with running_app(es_stack) as app:
        yield app.test_client(token=token)


def test_a_device_sees_its_own_photos_newest_first_and_no_one_elses(mine, device):
    _, _, index = device
    oldest = index("2026-12-01T08:00:00Z", label="maize")
    rejected = index("2026-12-02T08:00:00Z", status="rejected", reason="corrupt",
                     error="the image is damaged and cannot be decoded")
    newest = index("2026-12-03T08:00:00Z", label="wheat")
    index("2026-12-04T08:00:00Z", device_id="someone-else")

    answer = mine.get("/images?device=mine").get_json()

    assert [record["image_id"] for record in answer["images"]] == [newest, rejected, oldest]
    assert [record["status"] for record in answer["images"]] == [
        "processed", "rejected", "processed"]
    assert (answer["total"], answer["page"], answer["next"]) == (3, 1, None)


def test_pages_follow_one_another_to_the_last(mine, device):
    _, _, index = device
    ids = [index(f"2026-12-0{day}T08:00:00Z") for day in range(1, 6)]

    first = mine.get("/images?device=mine&per_page=2").get_json()
    second = mine.get(first["next"]).get_json()
    last = mine.get(second["next"]).get_json()

    pages = [first, second, last]
    assert [[r["image_id"] for r in page["images"]] for page in pages] == [
        ids[:2:-1], ids[2:0:-1], ids[:1]]
    assert last["next"] is None and first["total"] == 5


@pytest.mark.parametrize(("query", "words"), [
    ("", "?device=mine"),
    ("?device=phone-3", "?device=mine"),
    ("?device=mine&page=0", "page is a whole number"),
    ("?device=mine&per_page=101", "per_page is a whole number from 1 to 100"),
    ("?device=mine&page=200&per_page=100", "only the newest 10,000"),
])
def test_a_query_it_cannot_answer_is_400_in_words(mine, query, words):
    response = mine.get(f"/images{query}")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_filter"
    assert words in response.get_json()["message"]

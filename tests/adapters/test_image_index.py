"""Image documents in Elasticsearch: one per image, _id = image id, GPS as a geo_point."""

from __future__ import annotations

import uuid

import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import IndexingFailed, Refusal, get_image, index_rows

PROCESSED_AT = "2026-11-23T10:00:00+00:00"


def row(image_id: str, **fields) -> dict:
    return {"image_id": image_id, "label": "maize", "status": "processed", "lat": None, "lon": None,
            "thumbnail": b"\xff\xd8jpeg", **fields}


@pytest.fixture
def index(es_stack):
    """A fresh index that the pipeline's template (installed for <index> and <index>-*) maps."""
    client = make_elasticsearch_client(es_stack.elasticsearch_url)
    name = f"{es_stack.elasticsearch_index}-{uuid.uuid4().hex[:8]}"
    client.indices.create(index=name)
    yield client, name
    client.indices.delete(index=name)


def test_bulk_indexing_works_against_the_local_server_whatever_its_version(index):
    client, name = index
    assert index_rows(client, name, [row("a" * 64), row("b" * 64)], PROCESSED_AT) == []
    client.indices.refresh(index=name)
    assert client.count(index=name)["count"] == 2


def test_reindexing_the_same_image_overwrites_its_document(index):
    client, name = index
    index_rows(client, name, [row("a" * 64, status="rejected", reason="corrupt")], PROCESSED_AT)
    index_rows(client, name, [row("a" * 64, status="rejected", reason="corrupt")], PROCESSED_AT)
    client.indices.refresh(index=name)
    assert client.count(index=name)["count"] == 1
    assert get_image(client, name, "a" * 64)["reason"] == "corrupt"


def test_a_document_is_readable_by_id_as_soon_as_it_is_indexed(index):
    client, name = index
    index_rows(client, name, [row("d" * 64)], PROCESSED_AT)
    assert get_image(client, name, "d" * 64)["label"] == "maize"


def test_an_unknown_image_has_no_document(index):
    client, name = index
    assert get_image(client, name, "f" * 64) is None


def test_only_images_with_gps_get_a_location_found_by_a_bounding_box(index):
    client, name = index
    rows = [row("a" * 64, lat=-1.17, lon=36.83), row("b" * 64), row("c" * 64, lat=41.9, lon=-93.1)]
    index_rows(client, name, rows, PROCESSED_AT)
    client.indices.refresh(index=name)
    kenya = {"top_left": {"lat": 0.0, "lon": 36.0}, "bottom_right": {"lat": -2.0, "lon": 37.0}}
    hits = client.search(index=name, query={"geo_bounding_box": {"location": kenya}})["hits"]
    assert [hit["_id"] for hit in hits["hits"]] == ["a" * 64]
    assert "location" not in get_image(client, name, "b" * 64)
    assert get_image(client, name, "a" * 64)["thumbnail"] == "/9hqcGVn"


def test_the_mapping_keeps_a_document_with_a_malformed_date_and_an_overlong_camera(index):
    client, name = index
    bad = row("e" * 64, captured_at="2024-13-45T99:00:00+19:00", camera="A" * 40_000)

    assert index_rows(client, name, [bad], PROCESSED_AT) == []
    assert get_image(client, name, "e" * 64)["camera"] == "A" * 40_000


@pytest.fixture
def strict_index(es_stack):
    """An index whose dates take only well-formed values: a mapping from before the hardening."""
    client = make_elasticsearch_client(es_stack.elasticsearch_url)
    name = f"strict-{uuid.uuid4().hex[:8]}"
    client.indices.create(index=name, mappings={"properties": {"captured_at": {"type": "date"}}})
    yield client, name
    client.indices.delete(index=name)


def test_a_document_the_server_refuses_is_returned_and_the_others_are_indexed(strict_index):
    client, name = strict_index
    rows = [row("a" * 64, captured_at="2024-06-01T12:30:00+19:00"), row("b" * 64)]

    refusals = index_rows(client, name, rows, PROCESSED_AT)

    assert [refusal.image_id for refusal in refusals] == ["a" * 64]
    assert isinstance(refusals[0], Refusal)
    assert "captured_at" in refusals[0].error
    assert get_image(client, name, "a" * 64) is None
    assert get_image(client, name, "b" * 64)["label"] == "maize"


def test_a_write_blocked_index_fails_the_whole_call_rather_than_refusing_each_photo(index):
    client, name = index
    client.indices.put_settings(index=name, settings={"index.blocks.write": True})
    try:
        with pytest.raises(IndexingFailed, match="403"):
            index_rows(client, name, [row("a" * 64)], PROCESSED_AT)
    finally:
        client.indices.put_settings(index=name, settings={"index.blocks.write": False})

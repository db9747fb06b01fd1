"""Elasticsearch: the 9.x client talks to the local 7.x server; the template maps images;
indices are deleted only by name."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from elasticsearch import ApiError

from adapters.elasticsearch_client import make_elasticsearch_client
from infra.schemas import IMAGE_MAPPINGS, ensure_index, remove_index

PREDICTION_FIELDS = ("prediction", "prediction_confidence", "model_version")


@pytest.fixture
def es(es_stack):
    return make_elasticsearch_client(es_stack.elasticsearch_url)


@pytest.fixture
def scratch_index(es, es_stack):
    """A fresh index matching the template's `<index>-*` pattern, deleted afterwards."""
    name = f"{es_stack.elasticsearch_index}-test-{uuid.uuid4().hex[:8]}"
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


def test_the_client_reports_the_server_version(es, es_stack):
    with urllib.request.urlopen(es_stack.elasticsearch_url) as response:
        version = json.load(response)["version"]["number"]
    assert es.info()["version"]["number"] == version


def test_the_configured_index_exists(es, es_stack):
    assert es.indices.exists(index=es_stack.elasticsearch_index)


def test_the_template_maps_images(es, scratch_index):
    es.indices.create(index=scratch_index)
    fields = es.indices.get_mapping(index=scratch_index)[scratch_index]["mappings"]["properties"]
    assert fields["location"]["type"] == "geo_point"
    assert fields["image_id"]["type"] == "keyword"
    assert fields["captured_at"]["type"] == "date"
    assert fields["thumbnail"]["type"] == "binary"


def test_documents_indexed_as_ok_before_the_rename_say_processed_once_the_index_is_ensured(
    es, scratch_index
):
    es.indices.create(index=scratch_index)
    es.index(index=scratch_index, id="old", document={"status": "ok"}, refresh=True)
    es.index(index=scratch_index, id="refused", document={"status": "rejected"}, refresh=True)

    ensure_index(es, scratch_index)

    assert es.get(index=scratch_index, id="old")["_source"]["status"] == "processed"
    assert es.get(index=scratch_index, id="refused")["_source"]["status"] == "rejected"


def test_documents_of_photos_without_a_position_indexed_with_a_null_gps_source_say_none(
    es, scratch_index
):
    es.indices.create(index=scratch_index)
    old = {"status": "processed", "lat": None, "lon": None, "gps_source": None}
    es.index(index=scratch_index, id="old", document=old, refresh=True)
    es.index(index=scratch_index, id="placed", refresh=True,  # its source is not known: kept
             document={"status": "processed", "lat": 45.0, "lon": 7.0, "gps_source": None})
    es.index(index=scratch_index, id="exif", refresh=True,
             document={"status": "processed", "lat": 45.0, "lon": 7.0, "gps_source": "exif"})

    ensure_index(es, scratch_index)

    sources = {image: es.get(index=scratch_index, id=image)["_source"]["gps_source"]
               for image in ("old", "placed", "exif")}
    assert sources == {"old": "none", "placed": None, "exif": "exif"}


def test_an_index_made_before_the_prediction_fields_gets_them_once_ensured(es):
    name = f"old-images-{uuid.uuid4().hex[:8]}"  # under no template: the mapping of its day
    before = {name: kind for name, kind in IMAGE_MAPPINGS["properties"].items()
              if name not in PREDICTION_FIELDS}
    es.indices.create(index=name, mappings={"properties": before})
    es.index(index=name, id="old", document={"status": "processed", "label": "maize"},
             refresh=True)
    try:
        ensure_index(es, name)

        fields = es.indices.get_mapping(index=name)[name]["mappings"]["properties"]
        assert fields["prediction"]["type"] == fields["model_version"]["type"] == "keyword"
        assert fields["prediction_confidence"]["type"] == "float"
        es.index(index=name, id="new", refresh=True,
                 document={"status": "processed", "label": "maize", "prediction": "wheat",
                           "prediction_confidence": 0.5, "model_version": "2"})
        differs = es.search(index=name, query={"bool": {"must_not": [
            {"term": {"prediction": "maize"}}], "filter": [{"exists": {"field": "prediction"}}]}})
        assert [hit["_id"] for hit in differs["hits"]["hits"]] == ["new"]
    finally:
        remove_index(es, name)


def test_images_are_found_by_location(es, scratch_index):
    es.index(index=scratch_index, id="in-paris", document={"location": {"lat": 48.85, "lon": 2.35}})
    es.index(
        index=scratch_index, id="in-tokyo", document={"location": {"lat": 35.68, "lon": 139.7}}
    )
    es.indices.refresh(index=scratch_index)

    europe = {"top_left": {"lat": 60, "lon": -10}, "bottom_right": {"lat": 35, "lon": 30}}
    hits = es.search(index=scratch_index, query={"geo_bounding_box": {"location": europe}})["hits"][
        "hits"
    ]
    assert [hit["_id"] for hit in hits] == ["in-paris"]


def test_an_index_named_under_another_ones_pattern_gets_its_own_template(es, es_stack):
    nested = f"{es_stack.elasticsearch_index}-nested-{uuid.uuid4().hex[:6]}"
    ensure_index(es, nested)
    try:
        assert es.indices.exists(index=nested)
        mapping = es.indices.get_mapping(index=nested)[nested]["mappings"]
        assert mapping["properties"]["location"]["type"] == "geo_point"
    finally:
        es.indices.delete(index=nested)
        es.indices.delete_index_template(name=nested)


@pytest.fixture
def nameless_deletes_refused(es):
    """Skip where the server answering was not started with infra/'s configuration."""
    nodes = es.nodes.info(metric="settings")["nodes"].values()
    configured = [node["settings"].get("action", {}) for node in nodes]
    if not all(action.get("destructive_requires_name") == "true" for action in configured):
        pytest.skip("this Elasticsearch was started elsewhere, without infra/'s configuration")


def test_a_wildcard_delete_is_refused_and_deletes_nothing(es, es_stack, nameless_deletes_refused):
    prefix = f"{es_stack.elasticsearch_index}-wildcard-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-a", f"{prefix}-b"]
    for name in names:
        es.indices.create(index=name)
    try:
        for pattern in (f"{prefix}-*", "_all"):
            with pytest.raises(ApiError) as refused:
                es.indices.delete(index=pattern)
            assert refused.value.meta.status == 400
        assert all(es.indices.exists(index=name) for name in names)
    finally:
        for name in names:
            es.indices.delete(index=name)


def test_remove_index_deletes_an_index_and_its_template_by_name(es, es_stack):
    name = f"{es_stack.elasticsearch_index}-removed-{uuid.uuid4().hex[:8]}"
    ensure_index(es, name)

    remove_index(es, name)

    assert not es.indices.exists(index=name)
    assert not es.indices.exists_index_template(name=name)

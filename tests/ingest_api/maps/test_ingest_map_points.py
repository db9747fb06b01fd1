"""GET /map/points: the placed photos for the live map, and how many have no GPS; GET /map/find:
the photos whose id starts with what the map's search box was given."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra.processes import free_port
from ingest_api.maps.points import MAX_FOUND
from tests.ingest_api.apps import running_app
from tests.ingest_api.contract.test_ingest_openapi import assert_documented
from tests.ingest_api.map_index import MapIndex

THUMBNAIL = b"\xff\xd8\xff\xe0 a small jpeg \xff\xd9"


@pytest.fixture
def photos(es_stack):
    """A map index of the test's own, holding a small field season."""
    index = MapIndex(es_stack)
    index.ids = {
        "maize": index.add(label="maize", lat=45.07, lon=7.68, gps_source="exif",
                           captured_at="2024-06-01T12:30:00Z", device_id="phone-a",
                           thumbnail=THUMBNAIL),
        "wheat": index.add(label="wheat", lat=44.90, lon=7.50, gps_source="client",
                           captured_at="2024-06-03T09:00:00Z", device_id="phone-b"),
        "rice": index.add(label="rice", lat=45.30, lon=8.40, gps_source="exif",
                          captured_at="2024-06-05T18:00:00Z", device_id="phone-a"),
        "no_gps": index.add(label="maize", gps_source="none",
                            captured_at="2024-06-03T10:00:00Z", device_id="phone-b"),
        "rejected": index.add(status="rejected", reason="corrupt", lat=45.0, lon=7.0),
    }
    yield index
    index.remove()


@pytest.fixture
def map_client(photos):
    with running_app(photos.settings) as app:
        yield app.test_client()


def labels_of(answer: dict) -> list[str]:
    return sorted(point["label"] for point in answer["points"])


def test_without_filters_every_processed_photo_with_gps_is_a_point(map_client, photos):
    response = map_client.get("/map/points")

    assert response.status_code == 200
    answer = response.get_json()
    assert labels_of(answer) == ["maize", "rice", "wheat"]
    assert answer["without_gps"] == 1
    assert answer["placed"] == 3 and answer["truncated"] is False
    assert answer["crops"] == ["maize", "rice", "wheat"]
    maize = next(point for point in answer["points"] if point["label"] == "maize")
    image_id = photos.ids["maize"]
    assert maize == {
        "image_id": image_id, "label": "maize", "lat": 45.07, "lon": 7.68,
        "captured_at": "2024-06-01T12:30:00Z", "captured_at_local": None, "device_id": "phone-a",
        "gps_source": "exif", "prediction": None, "prediction_confidence": None,
        "model_version": None, "record": f"/images/{image_id}",
        "thumbnail": f"/images/{image_id}/thumbnail",
    }


def test_a_crop_filter_keeps_its_points_and_counts_its_photos_without_gps(map_client):
    answer = map_client.get("/map/points?crop=maize").get_json()

    assert labels_of(answer) == ["maize"]
    assert answer["without_gps"] == 1
    assert answer["crops"] == ["maize", "rice", "wheat"], "the filter's choices stay"


def test_a_date_range_includes_both_of_its_days(map_client):
    answer = map_client.get("/map/points?from=2024-06-03&to=2024-06-05").get_json()

    assert labels_of(answer) == ["rice", "wheat"]
    assert answer["without_gps"] == 1


def test_a_photo_whose_zone_is_unknown_is_in_the_day_of_its_local_time(map_client, photos):
    local_only = photos.add(label="oats", lat=45.1, lon=7.1, gps_source="exif",
                            captured_at_local="2024-06-04T23:30:00")
    photos.add(label="barley", lat=45.2, lon=7.2, gps_source="exif",
               captured_at="2024-06-03T22:30:00Z", captured_at_local="2024-06-04T00:30:00")

    answer = map_client.get("/map/points?from=2024-06-04&to=2024-06-04").get_json()

    assert labels_of(answer) == ["oats"], "a known zone's photo is in its UTC day, the 3rd"
    [oats] = answer["points"]
    assert (oats["image_id"], oats["captured_at"], oats["captured_at_local"]) == (
        local_only, None, "2024-06-04T23:30:00")
    assert labels_of(map_client.get("/map/points?from=2024-06-05").get_json()) == ["rice"]
    assert labels_of(map_client.get("/map/points?to=2024-06-03").get_json()) == [
        "barley", "maize", "wheat"]


def test_device_and_gps_source_filters(map_client):
    assert labels_of(map_client.get("/map/points?device=phone-a").get_json()) == ["maize", "rice"]
    assert labels_of(map_client.get("/map/points?gps_source=client").get_json()) == ["wheat"]
    by_both = map_client.get("/map/points?device=phone-b&gps_source=exif").get_json()
    assert by_both["points"] == [] and by_both["without_gps"] == 0


@pytest.fixture
def predicted(es_stack):
    """A map index of photos predicted by a model: right, wrong, unsure, and not predicted."""
    index = MapIndex(es_stack)
    place = {"lat": 45.0, "lon": 7.0, "gps_source": "exif"}
    index.ids = {
        "right": index.add(label="maize", prediction="maize", prediction_confidence=0.9,
                           model_version="3", **place),
        "wrong": index.add(label="maize", prediction="wheat", prediction_confidence=0.8,
                           model_version="3", **place),
        "unsure": index.add(label="rice", prediction="soy", prediction_confidence=0.3,
                            model_version="3", **place),
        "unlabelled": index.add(prediction="wheat", prediction_confidence=0.95,
                                model_version="3", **place),
        "not_predicted": index.add(label="rice", **place),
    }
    with running_app(index.settings) as app:
        yield app.test_client(), index
    index.remove()


def names_of(answer: dict, index: MapIndex) -> list[str]:
    by_id = {image_id: name for name, image_id in index.ids.items()}
    return sorted(by_id[point["image_id"]] for point in answer["points"])


def test_points_carry_their_prediction_and_the_crops_include_the_predicted_ones(predicted):
    client, index = predicted

    answer = client.get("/map/points").get_json()

    wrong = next(point for point in answer["points"] if point["image_id"] == index.ids["wrong"])
    assert (wrong["label"], wrong["prediction"], wrong["prediction_confidence"],
            wrong["model_version"]) == ("maize", "wheat", 0.8, "3")
    assert answer["crops"] == ["maize", "rice", "soy", "wheat"]  # soy: only ever predicted


def test_differs_keeps_the_photos_whose_prediction_is_not_their_label(predicted):
    client, index = predicted

    answer = client.get("/map/points?differs=yes").get_json()

    assert names_of(answer, index) == ["unsure", "wrong"]


def test_a_confidence_range_keeps_the_predictions_inside_it_both_ends_included(predicted):
    client, index = predicted

    assert names_of(client.get("/map/points?min_confidence=0.8").get_json(), index) == [
        "right", "unlabelled", "wrong"]
    assert names_of(client.get("/map/points?max_confidence=0.5").get_json(), index) == [
        "unsure"]
    both = client.get("/map/points?differs=yes&min_confidence=0.5&max_confidence=0.8")
    assert names_of(both.get_json(), index) == ["wrong"]


@pytest.mark.parametrize(
    "query", ["gps_source=satellite", "from=yesterday", "from=2024-06-05&to=2024-06-01",
              "differs=maybe", "min_confidence=high", "max_confidence=1.5",
              "min_confidence=0.9&max_confidence=0.1"]
)
def test_a_filter_that_makes_no_sense_is_400(map_client, query):
    response = map_client.get(f"/map/points?{query}")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_filter"


def test_the_points_need_a_device_token(photos):
    with running_app(photos.settings) as app:
        response = app.test_client(token=None).get("/map/points")

    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_token"


def test_the_page_itself_needs_no_token_and_names_the_tile_server(photos):
    settings = replace(photos.settings, map_tile_url="http://tiles.example.org/{z}/{x}/{y}.png")
    with running_app(settings) as app:
        response = app.test_client(token=None).get("/map")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-points-url="/map/points"' in page
    assert 'data-tile-url="http://tiles.example.org/{z}/{x}/{y}.png"' in page


def test_a_thumbnail_is_the_indexed_jpeg(map_client, photos):
    response = map_client.get(f"/images/{photos.ids['maize']}/thumbnail")

    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data == THUMBNAIL
    assert map_client.get(f"/images/{photos.ids['wheat']}/thumbnail").status_code == 404
    rejected = map_client.get(f"/images/{photos.ids['rejected']}/thumbnail")
    assert rejected.status_code == 404
    assert rejected.get_json()["message"].endswith("has no thumbnail: it was rejected")


def test_with_elasticsearch_down_the_points_are_a_503_in_words(photos):
    settings = replace(photos.settings, elasticsearch_url=f"http://127.0.0.1:{free_port()}")
    with running_app(settings) as app:
        response = app.test_client().get("/map/points")

    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "elasticsearch_unavailable"
    assert "Elasticsearch" not in body["message"] and response.headers["Retry-After"]


def test_the_answers_keep_the_contract(map_client):
    spec = map_client.get("/openapi.json").get_json()

    assert_documented(spec, "get", "/map/points", map_client.get("/map/points"))
    assert_documented(spec, "get", "/map/points", map_client.get("/map/points?from=soon"))
    assert_documented(spec, "get", "/map/find", map_client.get("/map/find?id=ab"))
    assert_documented(spec, "get", "/map/find", map_client.get("/map/find?id=xyz"))


def test_find_by_the_first_characters_of_an_id_gives_the_photos_record(map_client, photos):
    image_id = photos.ids["no_gps"]

    response = map_client.get(f"/map/find?id={image_id[:10].upper()}")

    assert response.status_code == 200
    [record] = response.get_json()["records"]
    assert record == map_client.get(f"/images/{image_id}").get_json()
    assert (record["label"], record["lat"]) == ("maize", None), "the page says it has no GPS"
    assert response.get_json()["found"] == 1


def test_find_ignores_the_filters_and_includes_rejected_photos(map_client, photos):
    answer = map_client.get(f"/map/find?id={photos.ids['rejected']}&crop=wheat").get_json()

    assert answer["found"] == 1
    assert answer["records"][0]["status"] == "rejected"


def test_find_says_how_many_photos_an_ambiguous_start_matches_and_shows_the_first(
    map_client, photos
):
    same_start = sorted(f"feedbeef{n:056x}" for n in range(MAX_FOUND + 1))
    for image_id in same_start:
        photos.add(image_id=image_id, label="maize", lat=45.0, lon=7.0)

    answer = map_client.get("/map/find?id=FeedBeef").get_json()

    assert answer["found"] == MAX_FOUND + 1
    assert [record["image_id"] for record in answer["records"]] == same_start[:MAX_FOUND]


def test_find_an_unknown_id_finds_nothing(map_client):
    assert map_client.get(f"/map/find?id={'0' * 64}").get_json() == {"found": 0, "records": []}


@pytest.mark.parametrize("query", ["", "id=", "id=photo-12", "id=" + "a" * 65])
def test_find_something_that_is_no_id_is_400_in_words(map_client, query):
    response = map_client.get(f"/map/find?{query}")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_image_id"
    assert "first characters" in response.get_json()["message"]

"""POST /classify: the champion's best crops for a photo, from the tensor the core makes of it;
the same refusals as /post_image; 503 in words when there is no model."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import pytest

from infra.processes import free_port
from kit.uploads import gif, jpeg, truncated_jpeg, unique_jpeg
from preprocessing import process_image, tensor_sha256
from tests.ingest_api.apps import running_app
from tests.ingest_api.champions import own_model


@pytest.fixture(scope="module")
def client(champion_settings):
    with running_app(champion_settings) as app:
        yield app.test_client()


def classify(client, data: bytes, field: str = "file", **fields):
    return client.post("/classify", data={field: (io.BytesIO(data), "photo.jpg"), **fields})


def test_a_photo_gets_the_champions_three_best_crops(client, champion_settings, trained):
    data = jpeg(seed=5)
    answer = classify(client, data)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["image_id"] == hashlib.sha256(data).hexdigest()
    assert body["model"] == {"name": champion_settings.model_name, "version": "1"}
    crops = [entry["crop"] for entry in body["top"]]
    assert len(crops) == 3 and set(crops) <= set(trained.report["model"]["classes"])
    assert (body["crop"], body["confidence"]) == (crops[0], body["top"][0]["probability"])
    assert body["tensor_sha256"] == tensor_sha256(process_image(data, n_variants=0).base)


def test_each_photo_counts_against_the_devices_upload_rate_limit(client, champion_settings):
    first, second = classify(client, jpeg(seed=7)), classify(client, jpeg(seed=8))

    limit = champion_settings.upload_rate_limit.split("/")[0]
    assert first.headers["RateLimit-Limit"] == second.headers["RateLimit-Limit"] == limit
    assert int(second.headers["RateLimit-Remaining"]) == int(
        first.headers["RateLimit-Remaining"]) - 1


@pytest.mark.parametrize("data, field, status, code", [
    (gif(), "file", 415, "unsupported_format"),
    (truncated_jpeg(), "file", 422, "corrupt"),
    (b"", "file", 415, "unsupported_format"),
    (jpeg(seed=6), "photo", 400, "missing_file"),
])
def test_bad_input_gets_the_same_answer_as_post_image(client, data, field, status, code):
    classified = classify(client, data, field)
    posted = client.post("/post_image", data={field: (io.BytesIO(data), "photo.jpg")})

    assert classified.status_code == posted.status_code == status
    assert classified.get_json()["error"] == posted.get_json()["error"] == code
    assert classified.get_json()["message"] == posted.get_json()["message"]


def test_a_form_field_that_breaks_its_rule_is_refused_as_on_post_image(client):
    answer = classify(client, unique_jpeg(), label="Maize!")
    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_label")


def test_without_a_token_it_is_refused(client, ingest_settings):
    answer = client.post("/classify", data={"file": (io.BytesIO(jpeg()), "p.jpg")},
                         headers={"Authorization": ""})
    assert answer.status_code == 401


def test_before_any_model_is_promoted_it_answers_503_no_model_in_words(champion_settings):
    with running_app(own_model(champion_settings, "unpromoted")) as app:
        answer = classify(app.test_client(), jpeg())

    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.get_json()["error"] == "no_model"
    assert answer.get_json()["message"] == (
        "no model has been promoted yet, so photos cannot be classified; an operator trains one "
        "and promotes it (python -m model promote VERSION). Uploads still work")


def test_with_the_registry_down_and_no_model_yet_it_answers_503_model_unavailable(
        champion_settings, tmp_path):
    down = replace(champion_settings, mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}",
                   model_cache_dir=str(tmp_path / "models"))
    with running_app(down) as app:
        answer = classify(app.test_client(), jpeg())

    assert answer.status_code == 503
    assert answer.get_json()["error"] == "model_unavailable"
    assert answer.get_json()["message"].startswith(
        "this server has no model loaded yet: the model registry does not answer")

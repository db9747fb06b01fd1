"""POST /classify: the champion's best crops for a photo, from the tensor the core makes of it;
the same refusals as /post_image; 503 in words when there is no model."""

from __future__ import annotations

import hashlib
import io

import pytest

from model.registry import RegistryUnavailable
from preprocessing import process_image, tensor_sha256
from tests.ingest_api.apps import running_app
from tests.ingest_api.champions import own_cache, registry_answering
from tests.ingest_api.samples import gif, jpeg, truncated_jpeg, unique_jpeg


@pytest.fixture
def client(ingest_settings, served, monkeypatch, tmp_path):
    registry_answering(monkeypatch, served)
    with running_app(own_cache(ingest_settings, tmp_path)) as app:
        yield app.test_client()


def classify(client, data: bytes, field: str = "file", **fields):
    return client.post("/classify", data={field: (io.BytesIO(data), "photo.jpg"), **fields})


def test_a_photo_gets_the_champions_three_best_crops(client, trained):
    data = jpeg(seed=5)
    answer = classify(client, data)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["image_id"] == hashlib.sha256(data).hexdigest()
    assert body["model"] == {"name": "crop-classifier", "version": "1"}
    crops = [entry["crop"] for entry in body["top"]]
    assert len(crops) == 3 and set(crops) <= set(trained.report["model"]["classes"])
    assert (body["crop"], body["confidence"]) == (crops[0], body["top"][0]["probability"])
    assert body["tensor_sha256"] == tensor_sha256(process_image(data, n_variants=0).base)


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


def test_before_any_promotion_it_answers_503_no_model_in_words(ingest_settings, monkeypatch,
                                                               tmp_path):
    registry_answering(monkeypatch, None)
    with running_app(own_cache(ingest_settings, tmp_path)) as app:
        answer = classify(app.test_client(), jpeg())

    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.get_json()["error"] == "no_model"
    assert answer.get_json()["message"].startswith("no model has been promoted yet")


def test_with_the_registry_down_and_no_model_yet_it_answers_503_model_unavailable(
        ingest_settings, monkeypatch, tmp_path):
    registry_answering(monkeypatch, RegistryUnavailable("MLflow does not answer"))
    with running_app(own_cache(ingest_settings, tmp_path)) as app:
        answer = classify(app.test_client(), jpeg())

    assert answer.status_code == 503
    assert answer.get_json()["error"] == "model_unavailable"
    assert "registry cannot be reached" in answer.get_json()["message"]

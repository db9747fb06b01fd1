"""GET /images/<id>/tensors/<variant>.png: a processed photo's tensors as PNG, read from its shard
on the real S3, found through its record in the real Elasticsearch."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import document_of
from adapters.object_store import open_store
from adapters.s3 import make_s3_client
from dataset.layout import shard_key
from dataset.writer import write_group
from infra.schemas import ensure_bucket, remove_bucket
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload
from tests.ingest_api.apps import running_app

GROUP, NAME = "stream", "tensors-p0-o000000000001"


@pytest.fixture
def settings(es_stack, s3_stack):
    """The stack's settings with a dataset root in a bucket of the test's own."""
    bucket, s3 = f"tensors-{uuid.uuid4().hex[:8]}", make_s3_client(s3_stack.s3)
    ensure_bucket(s3, bucket)
    yield replace(es_stack, s3=s3_stack.s3, dataset_root=f"s3://{bucket}/dataset")
    remove_bucket(s3, bucket)


@pytest.fixture
def app(settings):
    with running_app(settings) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def written(settings):
    """A processed photo (base, aug0, aug1) and a rejected one, in one shard, both indexed."""
    photo = process_upload(Upload(encode(photo_like(200, 150, seed=3), "jpeg"), "test", "maize"),
                           n_variants=2, max_pixels=10**8)
    broken = process_upload(Upload(b"not a photo", "test", "maize"), n_variants=2,
                            max_pixels=10**8)
    rows = write_group(open_store(settings.dataset_root, settings.s3), GROUP, NAME,
                       [photo, broken])
    es = make_elasticsearch_client(settings.elasticsearch_url)
    for row in rows:
        es.index(index=settings.elasticsearch_index, id=row["image_id"],
                 document=document_of(row, processed_at="2026-11-24T08:00:00Z"),
                 refresh="wait_for")
    yield photo, broken
    for row in rows:
        es.delete(index=settings.elasticsearch_index, id=row["image_id"], refresh=True)


def decoded(response) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(response.data)))


def test_each_tensor_is_a_png_of_exactly_the_tensor_in_the_shard(client, written):
    photo, _ = written
    tensors = {"base": photo.processed.base,
               **{f"aug{v.k}": v.tensor for v in photo.processed.variants}}
    assert list(tensors) == ["base", "aug0", "aug1"]

    for variant, tensor in tensors.items():
        response = client.get(f"/images/{photo.image_id}/tensors/{variant}.png")
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert "immutable" in response.headers["Cache-Control"]
        pixels = decoded(response)
        assert pixels.shape == (224, 224, 3)
        assert np.array_equal(pixels, tensor)


def test_an_id_in_upper_case_is_the_same_image(client, written):
    photo, _ = written
    response = client.get(f"/images/{photo.image_id.upper()}/tensors/base.png")
    assert response.status_code == 200


def test_it_needs_a_device_token(app, written):
    photo, _ = written
    response = app.test_client(token=None).get(f"/images/{photo.image_id}/tensors/base.png")
    assert response.status_code == 401
    assert response.json["error"] == "missing_token"


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/images/not-an-id/tensors/base.png", 400, "invalid_image_id"),
    (f"/images/{'0' * 64}/tensors/base.png", 404, "not_found"),
])
def test_a_bad_or_unknown_id_is_answered_in_words(client, written, path, status, code):
    response = client.get(path)
    assert response.status_code == status
    assert response.json["error"] == code and response.json["message"]


def test_an_unknown_variant_is_404_naming_the_variants_there_are(client, written):
    photo, _ = written
    response = client.get(f"/images/{photo.image_id}/tensors/aug9.png")
    assert response.status_code == 404
    assert response.json["error"] == "unknown_variant"
    assert "base, aug0, aug1" in response.json["message"]


def test_a_rejected_photo_has_no_tensors(client, written):
    _, broken = written
    response = client.get(f"/images/{broken.image_id}/tensors/base.png")
    assert response.status_code == 409
    assert response.json["error"] == "not_processed"


def test_a_shard_gone_from_the_dataset_is_503_with_retry_after(client, settings, written):
    photo, _ = written
    open_store(settings.dataset_root, settings.s3).delete([shard_key(GROUP, NAME)])

    response = client.get(f"/images/{photo.image_id}/tensors/base.png")

    assert response.status_code == 503
    assert response.json["error"] == "dataset_unavailable"
    assert response.headers["Retry-After"]

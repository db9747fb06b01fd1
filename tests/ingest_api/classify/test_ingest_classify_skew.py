"""No skew between serving and the dataset: for every photo of the shared corpus, the tensor
POST /classify feeds the model is, byte for byte, the base tensor the batch job wrote into the
photo's shard.

The batch job reads the corpus where it lies (nothing is copied into the project) and writes a
dataset of its own on the session's S3; the tensors are then read back from its shards.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.object_store import S3Store
from adapters.s3 import make_s3_client
from batch.job import run_batch
from infra.processes import free_port
from infra.schemas import ensure_bucket, remove_bucket
from kit.uploads import CORPUS
from tests.dataset.tensor_hashes import tensor_hashes
from tests.ingest_api.apps import running_app

PHOTOS = sorted(CORPUS.glob("*/*.jpg"))

pytestmark = pytest.mark.skipif(not PHOTOS, reason=f"no corpus at {CORPUS}")


@pytest.fixture(scope="module")
def base_tensors(s3_stack) -> dict[str, str]:
    """image id -> sha256 of its base tensor, as the batch job's shards hold it."""
    bucket, client = f"skew-{uuid.uuid4().hex[:10]}", make_s3_client(s3_stack.s3)
    ensure_bucket(client, bucket)
    store = S3Store(bucket, "dataset", s3_stack.s3)
    try:
        run_batch(CORPUS, store, n_variants=1, max_pixels=s3_stack.max_pixels, shard_digits=1,
                  split_fractions=(0.8, 0.1, 0.1),
                  spark_settings=replace(s3_stack, spark_master="local[2]",
                                         spark_ui_port=free_port()))
        yield {image_id: digest for (image_id, variant), digest in tensor_hashes(store).items()
               if variant == "base"}
    finally:
        remove_bucket(client, bucket)


@pytest.fixture(scope="module")
def client(champion_settings):
    with running_app(champion_settings) as app:
        yield app.test_client()


@pytest.mark.parametrize("path", PHOTOS, ids=lambda path: str(path.relative_to(CORPUS)))
def test_classify_feeds_the_model_the_base_tensor_of_the_photos_shard(client, base_tensors,
                                                                       path: Path):
    data = path.read_bytes()
    answer = client.post("/classify", data={"file": (io.BytesIO(data), path.name)})

    assert answer.status_code == 200, answer.get_data(as_text=True)
    image_id = hashlib.sha256(data).hexdigest()
    assert answer.get_json()["image_id"] == image_id
    assert answer.get_json()["tensor_sha256"] == base_tensors[image_id]

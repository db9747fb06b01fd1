"""GET /images/<id>/tensors/<variant>.png: a processed photo's tensors, as the dataset holds them.

The base 224x224 tensor and each augmented variant, encoded as PNG for people to look at (the
upload page shows them). The image's search document names the shard that holds its tensors
and the variants it has; the shard is read only as far as the wanted member
(dataset/sample_lookup.py). An image id is its bytes' sha256 and the variants are drawn from
it, so an answer never changes and browsers may keep it.
"""

from __future__ import annotations

import io
import logging
import tarfile

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, Flask, Response, current_app
from PIL import Image

from adapters.object_store import ObjectStore, open_store
from dataset.sample_lookup import SampleMissing, read_tensor
from ingest_api.contract import api_schemas
from ingest_api.contract.operations import Body, Operation, documented
from ingest_api.ops.errors import (
    ApiError,
    DatasetUnavailable,
    InvalidImageId,
    NotProcessed,
    UnknownImage,
)
from ingest_api.records.image_records import IndexUnavailable, get_image_records
from ingest_api.records.routes import checked_image_id, no_record
from settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("tensors", __name__)

EXTENSION_KEY = "dataset_tensors"
CACHE_CONTROL = "private, max-age=31536000, immutable"

# What reading a shard can raise: the store's errors (a missing object, a server that does not
# answer), a damaged tar or .npy, a shard without the member its record promises.
READ_ERRORS = (OSError, ClientError, BotoCoreError, tarfile.TarError, ValueError, SampleMissing)


class UnknownVariant(ApiError):
    status = 404
    code = "unknown_variant"


class DatasetTensors:
    """Reads tensors from the dataset root's shards and encodes them as PNG."""

    def __init__(self, store: ObjectStore):
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings) -> DatasetTensors:
        return cls(open_store(settings.dataset_root, settings.s3))

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self

    def png(self, shard: str, image_id: str, variant: str) -> bytes:
        """The PNG of one tensor; raise DatasetUnavailable when the shard cannot give it."""
        try:
            tensor = read_tensor(self.store, shard, image_id, variant)
        except READ_ERRORS as error:
            log.warning("reading %s of %s from %s failed: %r", variant, image_id, shard, error)
            raise DatasetUnavailable("the dataset could not be read") from error
        buffer = io.BytesIO()
        Image.fromarray(tensor).save(buffer, format="PNG")
        return buffer.getvalue()


def get_dataset_tensors() -> DatasetTensors:
    return current_app.extensions[EXTENSION_KEY]


@bp.get("/images/<image_id>/tensors/<variant>.png")
@documented(
    Operation(
        "A processed photo's 224x224 base tensor or one of its augmented variants, as PNG",
        {200: Body("the tensor, 224x224 RGB", {}, "image/png")},
        errors=(InvalidImageId, UnknownImage, NotProcessed, UnknownVariant, IndexUnavailable,
                DatasetUnavailable),
        parameters={"image_id": api_schemas.IMAGE_ID_SCHEMA,
                    "variant": api_schemas.VARIANT_SCHEMA},
        description="Read from the photo's WebDataset shard. The record (GET /images/<id>) "
        "lists the variants. An answer never changes: it may be cached for good. 404 "
        "`not_processed_yet` or `not_found` as GET /images/<id> answers them.",
    )
)
def tensor_png(image_id: str, variant: str):
    """One tensor of a processed photo, as the dataset holds it."""
    image_id = checked_image_id(image_id)
    record = get_image_records().get(image_id)
    if record is None:
        raise no_record(image_id)
    if record["status"] != "processed":
        raise NotProcessed(f"image {image_id} was rejected: it has no tensors")
    variants = record.get("variants") or []
    if variant not in variants:
        raise UnknownVariant(
            f"image {image_id} has no variant {variant!r}; it has {', '.join(variants)}"
        )
    data = get_dataset_tensors().png(record["shard_key"], image_id, variant)
    return Response(data, mimetype="image/png", headers={"Cache-Control": CACHE_CONTROL})

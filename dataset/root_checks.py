"""Whether a dataset root can be used, asked once by a command before it starts, so that a
server that is down or a root without a dataset is one sentence, not a traceback.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from adapters.object_store import ObjectStore, S3Store
from dataset.manifest import MANIFEST_DIR

DELTA_LOG = f"{MANIFEST_DIR}/_delta_log/"


class RootUnusable(Exception):
    """The root cannot be used: its S3 does not answer, or it holds no dataset. One sentence."""


def check_reachable(store: ObjectStore) -> None:
    """Raise RootUnusable unless the root's server answers and its bucket exists."""
    if not isinstance(store, S3Store):
        return
    s3_endpoint = store.s3.endpoint_url
    try:
        store.client.list_objects_v2(Bucket=store.bucket, MaxKeys=1)
    except ClientError as error:
        code = error.response["Error"].get("Code")
        if code == "NoSuchBucket":
            raise RootUnusable(f"there is no bucket {store.bucket!r} at {s3_endpoint} "
                               f"(for {where(store)})") from None
        raise RootUnusable(f"S3 at {s3_endpoint} refused to list {where(store)}: "
                           f"{code}") from None
    except BotoCoreError:
        raise RootUnusable(f"S3 does not answer at {s3_endpoint}: start the stack with "
                           "./deploy.sh, or set S3_ENDPOINT_URL") from None


def check_dataset(store: ObjectStore) -> None:
    """Raise RootUnusable unless the root is reachable and holds a dataset (a manifest)."""
    check_reachable(store)
    try:
        has_manifest = bool(store.list_keys(DELTA_LOG))
    except (OSError, BotoCoreError, ClientError) as error:
        raise RootUnusable(f"{where(store)} cannot be read: {error}") from None
    if not has_manifest:
        raise RootUnusable(f"{where(store)} holds no dataset (no {MANIFEST_DIR}/ table): "
                           "the batch job or the stream writes one")


def where(store: ObjectStore) -> str:
    """The root as its user wrote it: a directory, or s3://bucket/prefix."""
    return store.url("").rstrip("/")

"""What the reader and the dataset commands refuse, in a sentence: a root that holds no dataset,
a store they cannot read, and filters that no row can match. Each answers "no" where a query
would otherwise give 0 rows, or a command a traceback, and no word of why."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from adapters.object_store import LocalStore, ObjectStore, S3Store
from dataset.manifest import MANIFEST_DIR

ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


class DatasetError(Exception):
    """The reader cannot answer as asked; the message says why, for a person."""


class DatasetNotFound(DatasetError, LookupError):
    """The root holds no dataset: no manifest table was ever written there."""


class DatasetUnreachable(DatasetError):
    """The store under the root cannot be read: no such bucket, refused keys, a server down."""


class InvalidFilter(DatasetError, ValueError):
    """A filter no row can match: a value the dataset does not have (a misspelt split, status
    or label), or an empty range."""


def not_found(root: str, store: ObjectStore) -> DatasetNotFound:
    """The error for a root without a manifest table, naming it."""
    missing = isinstance(store, LocalStore) and not Path(store.root).exists()
    why = "the directory does not exist" if missing else "it holds no manifest table (manifest/)"
    return DatasetNotFound(f"no dataset at {root}: {why}. A dataset root is the directory or "
                           "s3://bucket/prefix that holds manifest/ and shards/.")


@contextmanager
def reading(root: str, store: ObjectStore) -> Iterator[None]:
    """Turn the store's and delta-rs's errors (an OSError with terminal colour codes) into one
    sentence about what is wrong with the root."""
    try:
        yield
    except (OSError, BotoCoreError, ClientError) as error:
        raise unreachable(root, store, error) from error


def unreachable(root: str, store: ObjectStore, error: Exception) -> DatasetUnreachable:
    """Why the root cannot be read: asked of the S3 server itself, which says it best."""
    if isinstance(store, S3Store):
        endpoint, bucket = store.s3.endpoint_url, store.bucket
        try:
            store.client.head_bucket(Bucket=bucket)
        except BotoCoreError:  # no answer at all: connection refused, unknown host, timeout
            return DatasetUnreachable(f"cannot read {root}: S3 does not answer at {endpoint}: "
                                      "start the stack with ./deploy.sh, or set S3_ENDPOINT_URL")
        except ClientError as refusal:
            status = refusal.response["ResponseMetadata"].get("HTTPStatusCode")
            if status == 404:
                return DatasetUnreachable(f"cannot read {root}: S3 at {endpoint} has no bucket "
                                          f"named {bucket!r}{bucket_names(store)}")
            if status == 403:
                return DatasetUnreachable(
                    f"cannot read {root}: S3 at {endpoint} refused the access key "
                    f"{store.s3.access_key!r} (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
    return DatasetUnreachable(f"cannot read {root}: {first_line(error)}")


def check_reachable(store: ObjectStore) -> None:
    """Raise DatasetUnreachable unless the root's S3 answers and its bucket exists; asked once
    by a command before it starts."""
    if isinstance(store, S3Store):
        with reading(where(store), store):
            store.client.list_objects_v2(Bucket=store.bucket, MaxKeys=1)


def check_dataset(store: ObjectStore) -> None:
    """Raise a DatasetError unless the root is reachable and holds a dataset (a manifest)."""
    check_reachable(store)
    with reading(where(store), store):
        has_manifest = bool(store.list_keys(f"{MANIFEST_DIR}/_delta_log/"))
    if not has_manifest:
        raise not_found(where(store), store)


def where(store: ObjectStore) -> str:
    """The root as its user wrote it: a directory, or s3://bucket/prefix."""
    return store.url("").rstrip("/")


def bucket_names(store: S3Store) -> str:
    """"; its buckets are a, b" when the server lists them to these keys, else nothing."""
    try:
        names = [bucket["Name"] for bucket in store.client.list_buckets()["Buckets"]]
    except (BotoCoreError, ClientError):
        return ""
    return f"; its buckets are {', '.join(names)}" if names else "; it has no buckets"


def first_line(error: Exception) -> str:
    """An error's first line without terminal colour codes (delta-rs adds them)."""
    text = ANSI_CODES.sub("", str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_value(name: str, value: str | None, valid: Iterable[str], note: str = "") -> None:
    """Refuse a filter value that is not among the valid ones, naming them."""
    valid = list(dict.fromkeys(valid))
    if value is not None and value not in valid:
        choices = ", ".join(repr(choice) for choice in valid) or "none"
        raise InvalidFilter(f"{name}={value!r} matches nothing: the valid values are "
                            f"{choices}{note}")


def check_label(label: str | None, rows: pd.DataFrame) -> None:
    """Refuse a label that no row carries, naming the dataset's labels (and the one meant, when
    it differs only in case)."""
    labels = sorted(rows["label"].dropna().unique())
    if label is None or label in labels:
        return
    meant = [known for known in labels if known.lower() == label.lower()]
    note = f"; labels match exactly: did you mean {meant[0]!r}?" if meant else ""
    check_value("label", label, labels, note)


def check_variants(variants: Iterable[str] | None, rows: pd.DataFrame) -> None:
    """Refuse a variant name that none of the rows has ("base", "aug0", ...), and a bare string,
    whose letters would be taken for names."""
    if isinstance(variants, str):
        raise InvalidFilter(f"variants is a list of names, like [{variants!r}], not {variants!r}")
    if variants is None or "variants" not in rows or rows.empty:
        return
    known = sorted({name for names in rows["variants"].dropna() for name in names})
    for name in variants:
        check_value("variants", name, known)


def check_ranges(bbox: tuple[float, float, float, float] | None,
                 brightness: tuple[float, float] | None) -> None:
    """Refuse a bbox or brightness range that is empty (its bounds the wrong way round)."""
    if bbox is not None and not (bbox[0] <= bbox[2] and bbox[1] <= bbox[3]):
        raise InvalidFilter(f"bbox={tuple(bbox)!r} is empty: it is (min_lon, min_lat, max_lon, "
                            "max_lat), each minimum at most its maximum")
    if brightness is not None and brightness[0] > brightness[1]:
        raise InvalidFilter(f"brightness={tuple(brightness)!r} is empty: it is (low, high), "
                            "low at most high")

"""Where a dataset lives: a local directory (the embedded default) or s3://bucket/prefix.

Both stores take the same keys ("raw/<id>.jpg", "shards/..."), so the dataset format never
knows which one it is writing to. Stores are picklable: Spark ships them to its workers.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from adapters.s3 import make_s3_client
from settings import S3Settings

# Answers that concern the object, not the store: a bad key or body. Credentials (401, 403), a
# missing bucket (404), throttling (429) and server errors concern every write alike.
_OBJECT_STATUSES = {400, 411, 413, 414}
_OBJECT_ERRNOS = {errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG}
# How long a reader URL works: a day of training; S3 accepts at most seven (SigV4's limit).
READER_URL_SECONDS = 24 * 3600
# A shard (tens of MB) in one PUT, not 8 MB parts sent by threads: about half the client's CPU
# per byte; still multipart above this (a whole batch's shard spooled to disk, say).
ONE_PUT_UP_TO = TransferConfig(multipart_threshold=64 * 1024 * 1024)


class ObjectRefused(Exception):
    """The store refused this one object (its key or its bytes); other writes may still work."""


class ObjectStore(Protocol):
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def put_stream(self, key: str, stream: BinaryIO) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def list_keys(self, prefix: str) -> list[str]: ...
    def sizes(self, prefix: str) -> dict[str, int]: ...
    def delete(self, keys: list[str]) -> None: ...
    def url(self, key: str) -> str: ...
    def open_stream(self, key: str) -> BinaryIO: ...
    def reader_url(self, key: str, expires_s: int = READER_URL_SECONDS) -> str: ...


class LocalStore:
    """Objects as files under a root directory; writes are atomic (temp file, then rename)."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    def put_bytes(self, key: str, data: bytes) -> None:
        try:
            self.put_stream(key, io.BytesIO(data))
        except OSError as error:
            if error.errno in _OBJECT_ERRNOS:
                raise ObjectRefused(f"{key}: {error.strerror}") from error
            raise

    def put_stream(self, key: str, stream: BinaryIO) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as temp:
            shutil.copyfileobj(stream, temp)
        os.replace(temp.name, path)

    def get_bytes(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())

    def sizes(self, prefix: str) -> dict[str, int]:
        """The size in bytes of every object under prefix."""
        return {key: (self.root / key).stat().st_size for key in self.list_keys(prefix)}

    def delete(self, keys: list[str]) -> None:
        """Remove the objects; keys already gone are no error."""
        for key in keys:
            (self.root / key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return str(self.root / key)

    def open_stream(self, key: str) -> BinaryIO:
        return (self.root / key).open("rb")

    def reader_url(self, key: str, expires_s: int = READER_URL_SECONDS) -> str:
        """The file's path: any tar reader opens it, and it does not expire."""
        return self.url(key)


class S3Store:
    """Objects under s3://bucket/prefix through boto3; the client is made lazily on each worker."""

    def __init__(self, bucket: str, prefix: str, s3: S3Settings):
        self.bucket, self.prefix, self.s3 = bucket, prefix.strip("/"), s3
        self._client = None

    def __getstate__(self):
        return {**self.__dict__, "_client": None}

    @property
    def client(self):
        if self._client is None:
            self._client = make_s3_client(self.s3)
        return self._client

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data)
        except ClientError as error:
            if error.response["ResponseMetadata"].get("HTTPStatusCode") in _OBJECT_STATUSES:
                raise ObjectRefused(f"{key}: {error.response['Error'].get('Code')}") from error
            raise

    def put_stream(self, key: str, stream: BinaryIO) -> None:
        self.client.upload_fileobj(stream, self.bucket, self._full(key), Config=ONE_PUT_UP_TO)

    def get_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"].read()

    def list_keys(self, prefix: str) -> list[str]:
        return sorted(self.sizes(prefix))

    def sizes(self, prefix: str) -> dict[str, int]:
        """The size in bytes of every object under prefix."""
        strip = len(self.prefix) + 1 if self.prefix else 0
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._full(prefix)
        )
        return {obj["Key"][strip:]: obj["Size"] for page in pages
                for obj in page.get("Contents", [])}

    def delete(self, keys: list[str]) -> None:
        """Remove the objects, a thousand per request; keys already gone are no error."""
        for start in range(0, len(keys), 1000):
            objects = [{"Key": self._full(key)} for key in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket,
                                       Delete={"Objects": objects, "Quiet": True})

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._full(key)}"

    def open_stream(self, key: str) -> BinaryIO:
        """The object's body as it arrives from the server, read on demand, never buffered whole."""
        return self.client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"]

    def reader_url(self, key: str, expires_s: int = READER_URL_SECONDS) -> str:
        """A presigned GET URL: plain HTTP readers (curl, webdataset) need no S3 credentials."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._full(key)},
            ExpiresIn=expires_s,
        )


def open_store(root: str, s3: S3Settings) -> ObjectStore:
    """An S3Store for "s3://bucket/prefix", otherwise a LocalStore for the directory."""
    if root.startswith("s3://"):
        bucket, _, prefix = root[len("s3://") :].partition("/")
        return S3Store(bucket, prefix, s3)
    return LocalStore(root)

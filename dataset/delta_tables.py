"""A Delta Lake table beside a dataset's shards: the manifest, the label corrections.

Each lives in a directory of the dataset root (a local directory or s3://bucket/prefix) and is
read and written with the deltalake package (delta-rs, no JVM). This holds what they share: where
the table is and how to reach it, its newest version kept up to date incrementally, and commits
made again when a concurrent writer won the race.

The log is kept whole: delta-rs otherwise deletes log entries older than
delta.logRetentionDuration (30 days) whenever it writes a checkpoint, and a named snapshot's
version (dataset/snapshots.py) could no longer be loaded. Tables are created with
delta.enableExpiredLogCleanup false, and every commit of ours says so too (KEEP_LOG), for tables
created before.

Tables are read through Arrow's own filesystems (files()), not deltalake's default, a Python
filesystem: each buffer read through that one wraps a Python object, and Arrow's threads release
the last of them just after a read has returned. One released as the interpreter exits waits for
the GIL of a finalizing Python, whose thread exit unwinds through the buffer's destructor into
std::terminate: `python -m dataset snapshot` aborted (SIGABRT) after its output, one run in
thirty to a hundred (apache/arrow#34314, #49942). Arrow's own filesystems read into buffers of
their own, which any thread frees without Python.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import ClassVar, TypeVar
from urllib.parse import urlsplit

import pyarrow as pa
from deltalake import DeltaTable, PostCommitHookProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from pyarrow import fs

from adapters.object_store import ObjectStore
from settings import S3Settings

TABLE_PROPERTIES = {"delta.enableExpiredLogCleanup": "false"}
KEEP_LOG = PostCommitHookProperties(cleanup_expired_logs=False)
COMMIT_ATTEMPTS = 20

Result = TypeVar("Result")


def delta_storage_options(s3: S3Settings) -> dict[str, str]:
    """delta-rs options for an S3-compatible server; commits use conditional puts (ETag), so
    concurrent writers (the stream, the batch job, compaction) never overwrite a commit."""
    return {
        "AWS_ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_REGION": s3.region,
        "AWS_ALLOW_HTTP": str(s3.endpoint_url.startswith("http://")).lower(),
        "conditional_put": "etag",
    }


class DatasetTable:
    """One Delta table of a dataset root; subclasses name its directory and schema."""

    DIRECTORY: ClassVar[str]
    SCHEMA: ClassVar[pa.Schema]

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None):
        self.uri, self.storage_options = uri, storage_options
        self._table: DeltaTable | None = None

    @classmethod
    def of(cls, store: ObjectStore, **client_options: str):
        """The table beside a store's shards (its DIRECTORY); client_options (delta-rs's
        max_retries, retry_timeout, ...) apply on S3."""
        s3 = getattr(store, "s3", None)
        options = {**delta_storage_options(s3), **client_options} if s3 else None
        return cls(store.url(cls.DIRECTORY), options)

    def __getstate__(self):
        return {**self.__dict__, "_table": None}

    def table(self, version: int | None = None) -> DeltaTable | None:
        """The table at its newest (or the given) version; None before the first commit."""
        try:
            if version is not None:
                return DeltaTable(self.uri, version=version,
                                  storage_options=self.storage_options)
            if self._table is None:
                self._table = DeltaTable(self.uri, storage_options=self.storage_options)
            else:
                self._table.update_incremental()
        except TableNotFoundError:
            return None
        return self._table

    def files(self) -> fs.FileSystem:
        """The table's directory as a filesystem of Arrow's own (see the module's docstring)."""
        if not self.uri.startswith("s3://"):
            return fs.SubTreeFileSystem(self.uri, fs.LocalFileSystem())
        options = self.storage_options
        endpoint = urlsplit(options["AWS_ENDPOINT_URL"])
        s3 = fs.S3FileSystem(access_key=options["AWS_ACCESS_KEY_ID"],
                             secret_key=options["AWS_SECRET_ACCESS_KEY"],
                             region=options["AWS_REGION"], endpoint_override=endpoint.netloc,
                             scheme=endpoint.scheme)
        return fs.SubTreeFileSystem(self.uri.removeprefix("s3://"), s3)

    def version(self) -> int | None:
        table = self.table()
        return None if table is None else table.version()

    def rows(self, version: int | None = None, columns: list[str] | None = None) -> pa.Table:
        """Every row at the version (the newest by default): empty before the first commit."""
        table = self.table(version)
        if table is None:
            schema = self.SCHEMA
            if columns is not None:
                schema = pa.schema([schema.field(column) for column in columns])
            return schema.empty_table()
        return table.to_pyarrow_table(columns=columns, filesystem=self.files())

    def append(self, data: pa.Table, **options) -> None:
        """Append rows in one commit (creating the table first if need be)."""
        write_deltalake(self.uri, data, mode="append", configuration=TABLE_PROPERTIES,
                        post_commithook_properties=KEEP_LOG,
                        storage_options=self.storage_options, **options)

    def on_newest(self, operation: Callable[[DeltaTable | None], Result]) -> Result:
        """operation(the newest table), made again on the new version when a concurrent commit
        refused it (delta-rs refuses a commit whose files another commit rewrote meanwhile)."""
        for attempt in itertools.count(1):
            try:
                return operation(self.table())
            except CommitFailedError:
                if attempt == COMMIT_ATTEMPTS:
                    raise

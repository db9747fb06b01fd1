"""The manifest: a Delta Lake table at <root>/manifest/, one current row per image.

Written and read with the deltalake package (delta-rs, no JVM), so pandas, DuckDB, Polars and
Spark with Delta read it too. Its schema is derived from the image record. A commit may carry an
application transaction (app id, version): the streaming query's id and its batch id, so a batch
that Spark runs again after a crash never commits twice.

The log is kept whole: delta-rs otherwise deletes log entries older than
delta.logRetentionDuration (30 days) whenever it writes a checkpoint, and a named snapshot's
version (dataset/snapshots.py) could no longer be loaded. The table is created with
delta.enableExpiredLogCleanup false, and every commit of ours says so too (KEEP_LOG), for tables
created before.
"""

from __future__ import annotations

import itertools
import re

import pyarrow as pa
from deltalake import (
    CommitProperties,
    DeltaTable,
    PostCommitHookProperties,
    Transaction,
    write_deltalake,
)
from deltalake.exceptions import CommitFailedError, TableNotFoundError

from adapters.object_store import ObjectStore
from dataset.image_record import FIELDS
from settings import S3Settings

MANIFEST_DIR = "manifest"

ARROW_TYPES = {
    "keyword": pa.string(),
    "text": pa.string(),
    "byte": pa.int8(),
    "integer": pa.int32(),
    "long": pa.int64(),
    "float": pa.float64(),
    "double": pa.float64(),
    "date": pa.string(),  # ISO 8601 text, as the core writes it
    "keywords": pa.list_(pa.string()),
    "image": pa.binary(),
}
SCHEMA = pa.schema([(field.name, ARROW_TYPES[field.kind]) for field in FIELDS])
TABLE_PROPERTIES = {"delta.enableExpiredLogCleanup": "false"}
KEEP_LOG = PostCommitHookProperties(cleanup_expired_logs=False)
COMMIT_ATTEMPTS = 20
IMAGE_ID = re.compile(r"[0-9a-f]{64}")


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


class Manifest:
    """The manifest table of one dataset root (a directory or s3://bucket/prefix)."""

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None):
        self.uri, self.storage_options = uri, storage_options
        self._table: DeltaTable | None = None

    @classmethod
    def of(cls, store: ObjectStore) -> Manifest:
        """The manifest beside a store's shards (its `manifest/`)."""
        s3 = getattr(store, "s3", None)
        return cls(store.url(MANIFEST_DIR), delta_storage_options(s3) if s3 else None)

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

    def version(self) -> int | None:
        table = self.table()
        return None if table is None else table.version()

    def rows(self, version: int | None = None, columns: list[str] | None = None) -> pa.Table:
        """Every row at the version (the newest by default): empty before the first commit."""
        table = self.table(version)
        if table is None:
            schema = SCHEMA if columns is None else pa.schema([SCHEMA.field(c) for c in columns])
            return schema.empty_table()
        return table.to_pyarrow_table(columns=columns)

    def committed(self, app_id: str) -> int | None:
        """The last version of `app_id` this table has committed (a batch id), if any."""
        table = self.table()
        return None if table is None else table.transaction_version(app_id)

    def commit(
        self, rows: list[dict], *, replace_ids: set[str] = frozenset(), app_id: str | None = None,
        batch_id: int | None = None,
    ) -> None:
        """Add the rows in one commit; rows of `replace_ids` replace the current rows of those
        images. Appending is the common case and costs the same however big the table is;
        replacing (a batch job run again) has to read the table.

        delta-rs refuses an append when a concurrent commit rewrote files (compaction moving
        rows to new shards): the commit is made again on the new version, since the rows added
        or replaced never depend on the rows the other commit moved."""
        properties = None
        if app_id is not None:
            properties = CommitProperties(app_transactions=[Transaction(app_id, batch_id)])
        data = pa.Table.from_pylist(rows, schema=SCHEMA)
        for attempt in itertools.count(1):
            try:
                self._commit_once(data, replace_ids, properties)
                return
            except CommitFailedError:
                if attempt == COMMIT_ATTEMPTS:
                    raise

    def relabel(self, image_id: str, label: str) -> None:
        """Set the label of one image's current row (a label correction)."""
        if not IMAGE_ID.fullmatch(image_id):
            raise ValueError(f"not an image id: {image_id!r}")
        for attempt in itertools.count(1):
            table = self.table()
            if table is None:
                return
            try:
                table.update(new_values={"label": label}, predicate=f"image_id = '{image_id}'",
                             post_commithook_properties=KEEP_LOG)
                return
            except CommitFailedError:
                if attempt == COMMIT_ATTEMPTS:
                    raise

    def _commit_once(
        self, data: pa.Table, replace_ids: set[str], properties: CommitProperties | None
    ) -> None:
        table = self.table()
        if table is None or not replace_ids:
            write_deltalake(self.uri, data, mode="append", configuration=TABLE_PROPERTIES,
                            commit_properties=properties, post_commithook_properties=KEEP_LOG,
                            storage_options=self.storage_options)
            return
        (
            table.merge(data, "t.image_id = s.image_id", source_alias="s", target_alias="t",
                        commit_properties=properties, post_commithook_properties=KEEP_LOG)
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )

"""The manifest: a Delta Lake table at <root>/manifest/, one current row per image.

Written and read with the deltalake package (delta-rs, no JVM), so pandas, DuckDB, Polars and
Spark with Delta read it too (dataset/delta_tables.py holds what it shares with the other tables
of a dataset). Its schema is derived from the image record. A commit may carry an application
transaction (app id, version): the streaming query's id and its batch id, so a batch that Spark
runs again after a crash never commits twice.
"""

from __future__ import annotations

import re

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Transaction

from dataset.delta_tables import KEEP_LOG, DatasetTable
from dataset.image_record import FIELDS

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
    "local_time": pa.string(),
    "keywords": pa.list_(pa.string()),
    "image": pa.binary(),
}
SCHEMA = pa.schema([(field.name, ARROW_TYPES[field.kind]) for field in FIELDS])
IMAGE_ID = re.compile(r"[0-9a-f]{64}")


class Manifest(DatasetTable):
    """The manifest table of one dataset root (a directory or s3://bucket/prefix)."""

    DIRECTORY = MANIFEST_DIR
    SCHEMA = SCHEMA

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
        self.on_newest(lambda table: self._commit_once(table, data, replace_ids, properties))

    def relabel(self, image_id: str, label: str) -> None:
        """Set the label of one image's current row (a label correction)."""
        if not IMAGE_ID.fullmatch(image_id):
            raise ValueError(f"not an image id: {image_id!r}")

        def set_label(table: DeltaTable | None) -> None:
            if table is not None:
                table.update(new_values={"label": label}, predicate=f"image_id = '{image_id}'",
                             post_commithook_properties=KEEP_LOG)

        self.on_newest(set_label)

    def set_columns(self, values: pa.Table) -> None:
        """Set the columns of `values` other than image_id in the current rows of its images, in
        one commit; other columns and other rows are left as they are. A manifest from before
        those columns were in the record gets them (null in the other rows)."""
        columns = [name for name in values.column_names if name != "image_id"]
        data = values.cast(pa.schema([SCHEMA.field(name) for name in values.column_names]))

        def merge(table: DeltaTable | None) -> None:
            if table is None:
                return
            (table.merge(data, "t.image_id = s.image_id", source_alias="s", target_alias="t",
                         merge_schema=True, post_commithook_properties=KEEP_LOG)
             .when_matched_update({name: f"s.{name}" for name in columns})
             .execute())

        self.on_newest(merge)

    def _commit_once(
        self, table: DeltaTable | None, data: pa.Table, replace_ids: set[str],
        properties: CommitProperties | None,
    ) -> None:
        # A manifest written before a field was added to the record gets its column (null in
        # the older rows) at the first commit that carries it.
        if table is None or not replace_ids:
            self.append(data, commit_properties=properties, schema_mode="merge")
            return
        (
            table.merge(data, "t.image_id = s.image_id", source_alias="s", target_alias="t",
                        merge_schema=True, commit_properties=properties,
                        post_commithook_properties=KEEP_LOG)
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )

"""The Parquet manifest: one row per image, with a fixed schema shared by batch and stream."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema(
    [
        ("image_id", pa.string()),
        ("label", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("error", pa.string()),
        ("format", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("orientation", pa.int8()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("gps_source", pa.string()),
        ("altitude", pa.float64()),
        ("captured_at", pa.string()),
        ("camera", pa.string()),
        ("device_id", pa.string()),
        ("source", pa.string()),
        ("size_bytes", pa.int64()),
        ("raw_key", pa.string()),
        ("shard_key", pa.string()),
        ("variants", pa.list_(pa.string())),
        ("thumbnail", pa.binary()),
    ]
)


def to_parquet_bytes(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), buffer)
    return buffer.getvalue()


def from_parquet_bytes(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data), schema=SCHEMA)

"""Write a group of outcomes in the dataset format: raw bytes, one shard, one manifest file."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable

from adapters.object_store import ObjectStore
from dataset.layout import manifest_key, raw_key, rejected_key, shard_key
from dataset.manifest import to_parquet_bytes
from dataset.records import Outcome, manifest_row
from dataset.shards import open_shard_writer, samples_of

SPOOL_BYTES = 64 * 1024 * 1024  # a shard larger than this is spooled to a temporary file


def write_group(
    store: ObjectStore, group: str, name: str, outcomes: Iterable[Outcome]
) -> list[dict]:
    """Write every outcome and return their manifest rows.

    Raw bytes are kept for every upload, rejected ones too (with rejected/<id>.json giving the
    reason: the dead-letter record). Processed tensors go to shards/<group>/<name>.tar and all
    rows to manifest/<group>/<name>.parquet. `outcomes` is consumed lazily, so only one image's
    tensors are in memory at a time. Same outcomes, same names, same bytes: replays overwrite.
    """
    rows, target_shard, wrote_samples = [], shard_key(group, name), False
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        shard = open_shard_writer(spool)
        for outcome in outcomes:
            raw = raw_key(outcome.image_id, outcome.extension)
            store.put_bytes(raw, outcome.upload.data)
            if outcome.ok:
                for sample in samples_of(outcome):
                    shard.write(sample)
                wrote_samples = True
            else:
                store.put_bytes(rejected_key(outcome.image_id), dead_letter(outcome, raw))
            rows.append(manifest_row(outcome, raw, target_shard if outcome.ok else None))
        shard.close()
        if wrote_samples:
            spool.seek(0)
            store.put_stream(target_shard, spool)
    if rows:
        store.put_bytes(manifest_key(group, name), to_parquet_bytes(rows))
    return rows


def dead_letter(outcome: Outcome, raw: str) -> bytes:
    """The rejected/ record: why the photo was refused and where its original bytes are."""
    upload = outcome.upload
    record = {
        "image_id": outcome.image_id,
        "reason": outcome.reason,
        "error": outcome.error,
        "source": upload.source,
        "label": upload.label,
        "raw_key": raw,
    }
    return json.dumps(record, indent=2).encode()

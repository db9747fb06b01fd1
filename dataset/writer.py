"""Write a group of outcomes in the dataset format: raw bytes, one shard, and their rows."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable

from adapters.object_store import ObjectRefused, ObjectStore
from dataset.dead_letters import dead_letter
from dataset.layout import raw_key, rejected_key, shard_key
from dataset.records import manifest_row
from dataset.shards import open_shard_writer, samples_of
from photo.upload import Outcome, refused_by_storage

SPOOL_BYTES = 64 * 1024 * 1024  # a shard larger than this is spooled to a temporary file


def write_group(
    store: ObjectStore, group: str, name: str, outcomes: Iterable[Outcome], *,
    raw_copies: bool = True,
) -> list[dict]:
    """Write every outcome and return their manifest rows, for the caller to commit.

    Raw bytes are kept for every rejected upload (with rejected/<id>.json giving the reason: the
    dead-letter record), and for processed ones too unless raw_copies is off: the stream's
    broker keeps them in its log, at the row's `source`, and the row's `raw_key` is None.
    Processed tensors go to shards/<group>/<name>.tar.
    `outcomes` is consumed lazily, so only one image's
    tensors are in memory at a time. Same outcomes, same names, same bytes: replays overwrite.
    A photo whose bytes the store refuses (ObjectRefused) becomes a dead letter, `raw_key` None;
    any other store failure raises, for the whole group to be written again.
    """
    rows, target_shard, wrote_samples = [], shard_key(group, name), False
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        shard = open_shard_writer(spool)
        for outcome in outcomes:
            raw = None
            if raw_copies or not outcome.ok:
                raw = raw_key(outcome.image_id, outcome.extension)
                try:
                    store.put_bytes(raw, outcome.upload.data)
                except ObjectRefused as error:
                    outcome, raw = refused_by_storage(outcome, f"the store refused {error}"), None
            if outcome.ok:
                for sample in samples_of(outcome):
                    shard.write(sample)
                wrote_samples = True
            row = manifest_row(outcome, raw, target_shard if outcome.ok else None)
            if not outcome.ok:
                store.put_bytes(rejected_key(outcome.image_id), dead_letter(row))
            rows.append(row)
        shard.close()
        if wrote_samples:
            spool.seek(0)
            store.put_stream(target_shard, spool)
    return rows


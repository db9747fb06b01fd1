"""write_group keeps going when the store refuses one photo: that photo becomes a dead letter."""

from __future__ import annotations

import json

from adapters.object_store import LocalStore
from dataset.layout import raw_key, rejected_key
from dataset.writer import write_group
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload


def outcome(seed: int):
    data = encode(photo_like(160, 120, seed=seed), "jpeg")
    return process_upload(Upload(data, f"kafka:t/0/{seed}", "maize"), n_variants=1,
                          max_pixels=10**8)


def test_a_photo_whose_bytes_the_store_refuses_is_a_dead_letter_and_the_others_are_written(
    tmp_path,
):
    store = LocalStore(tmp_path)
    good, refused = outcome(1), outcome(2)
    (tmp_path / raw_key(refused.image_id, "jpg")).mkdir(parents=True)  # a folder where it goes

    rows = write_group(store, "stream", "t-p0-o000000000001", [good, refused])

    assert [row["status"] for row in rows] == ["processed", "rejected"]
    assert rows[1]["reason"] == "storage_refused" and rows[1]["raw_key"] is None
    letter = json.loads(store.get_bytes(rejected_key(refused.image_id)))
    assert letter["reason"] == "storage_refused"
    assert letter["source"] == "kafka:t/0/2"
    assert store.get_bytes(raw_key(good.image_id, "jpg")) == good.upload.data


def test_a_dead_letter_names_its_reason_source_label_and_raw_bytes(tmp_path):
    store = LocalStore(tmp_path)
    text = process_upload(Upload(b"not a photo", "kafka:t/2/9", "wheat"), n_variants=1,
                          max_pixels=10**8)

    write_group(store, "stream", "t-p2-o000000000009", [text])

    letter = json.loads(store.get_bytes(rejected_key(text.image_id)))
    assert letter == {"image_id": text.image_id, "reason": "unsupported_format",
                      "error": text.error, "source": "kafka:t/2/9", "label": "wheat",
                      "raw_key": raw_key(text.image_id, "bin")}


def test_without_raw_copies_only_rejected_photos_bytes_are_copied(tmp_path):
    store = LocalStore(tmp_path)
    good = outcome(3)
    text = process_upload(Upload(b"not a photo", "kafka:t/0/4", "wheat"), n_variants=1,
                          max_pixels=10**8)

    rows = write_group(store, "stream", "t-p0-o000000000003", [good, text], raw_copies=False)

    assert rows[0]["status"] == "processed" and rows[0]["raw_key"] is None
    assert rows[0]["source"] == "kafka:t/0/3"  # where the broker's log keeps the bytes
    assert rows[0]["shard_key"] == "shards/stream/t-p0-o000000000003.tar"
    assert store.get_bytes(rows[1]["raw_key"]) == b"not a photo"
    assert store.list_keys("raw/") == [rows[1]["raw_key"]]

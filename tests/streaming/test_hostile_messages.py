"""No message stops the stream: hostile messages straight to Kafka, past the API, among good photos.

Random bytes, broken and oversized headers, every header at and past its limit, EXIF that the
index would once have refused, absurd record timestamps: the running query keeps running, every
good photo is processed exactly once, and every bad message is a dead letter with its reason and
its Kafka position.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter

import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.object_store import open_store
from dataset.layout import rejected_key
from kit.field_messages import (
    documents,
    manifest_rows_written,
    photo_messages,
    produce,
)
from kit.hostile_messages import (
    at_the_limits,
    bad_messages,
    hostile_exif,
    photo,
    unparsable,
)
from kit.photos import exif_bytes
from preprocessing import image_id_of
from streaming.job import start_stream

PROCESSING_TIMEOUT_S = 300


def wait_until_indexed(settings, image_ids: set[str]) -> dict[str, dict]:
    deadline = time.monotonic() + PROCESSING_TIMEOUT_S
    while time.monotonic() < deadline:
        docs = documents(settings)
        if image_ids <= set(docs):
            return docs
        time.sleep(2)
    raise AssertionError(f"not indexed in time: {sorted(image_ids - set(documents(settings)))}")


@pytest.fixture(scope="module")
def hostile_run(spark, module_stream_settings):
    """The job running (a micro-batch every 2 s) over good and bad messages, interleaved."""
    settings = module_stream_settings
    good = [*photo_messages(6, first=500), *hostile_exif().values(), *at_the_limits()]
    bad = bad_messages()
    mixed = [message for pair in zip(good, [m for m, _ in bad], strict=False) for message in pair]
    mixed += good[len(bad):] + [m for m, _ in bad][len(good):]
    query = start_stream(spark, settings, max_offsets_per_trigger=8)
    try:
        produce(settings.kafka_bootstrap_servers, settings.kafka_topic, mixed[: len(mixed) // 2])
        time.sleep(3)  # let a batch or two run before the rest arrives
        produce(settings.kafka_bootstrap_servers, settings.kafka_topic, mixed[len(mixed) // 2 :])
        ids = {m.image_id for m in good} | {m.image_id for m, _ in bad}
        docs = wait_until_indexed(settings, ids)
        running = query.isActive and query.exception() is None
    finally:
        query.stop()
    return settings, good, bad, docs, running


def test_the_query_keeps_running_through_every_hostile_message(hostile_run):
    *_, running = hostile_run

    assert running


def test_every_good_photo_is_processed_exactly_once(hostile_run):
    settings, good, _, docs, _ = hostile_run

    written = Counter(row["image_id"] for row in manifest_rows_written(
        open_store(settings.dataset_root, settings.s3)))
    for message in good:
        assert written[message.image_id] == 1
        assert docs[message.image_id]["status"] == "processed", docs[message.image_id]


def test_every_bad_message_is_a_dead_letter_with_its_reason_and_kafka_position(hostile_run):
    settings, _, bad, docs, _ = hostile_run
    store = open_store(settings.dataset_root, settings.s3)

    for message, reason in bad:
        letter = json.loads(store.get_bytes(rejected_key(message.image_id)))
        position = rf"kafka:{settings.kafka_topic}/{message.partition}/\d+"
        assert (letter["reason"], docs[message.image_id]["reason"]) == (reason, reason)
        assert re.fullmatch(position, letter["source"]), letter
        assert letter["error"]
        assert docs[message.image_id]["status"] == "rejected"


def test_hostile_exif_values_are_made_safe_rather_than_refused(hostile_run):
    *_, docs, _ = hostile_run
    photos = {name: docs[message.image_id] for name, message in hostile_exif().items()}

    assert photos["make_of_40000_characters"]["camera"] == "A" * 128
    assert photos["offset_of_19_hours"]["captured_at"] == "2024-03-04T19:07:09Z"
    assert photos["year_1"]["captured_at"] is None
    assert photos["altitude_of_4e9_metres"]["altitude"] is None


def test_values_at_their_limits_are_kept(hostile_run):
    *_, docs, _ = hostile_run
    limits = docs[at_the_limits()[0].image_id]

    assert (limits["label"], limits["device_id"]) == ("x" * 64, "d" * 128)
    assert (limits["lat"], limits["lon"]) == (-90.0, 180.0)
    assert limits["captured_at"] == "2099-12-31T23:59:59Z"


def test_a_document_elasticsearch_refuses_is_a_dead_letter_and_the_batch_commits(
    spark, stream_settings
):
    settings = stream_settings
    search = make_elasticsearch_client(settings.elasticsearch_url)
    # A mapping changed by hand: camera names are numbers now, so a photo naming one is refused.
    search.indices.create(index=settings.elasticsearch_index,
                          mappings={"properties": {"camera": {"type": "integer"}}})
    named = photo(300, exif=exif_bytes(make="Acme", model="X100"))
    plain = photo(301)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, [named, plain])

    query = start_stream(spark, settings, trigger={"availableNow": True})
    query.awaitTermination(300)

    assert query.exception() is None
    docs = documents(settings)
    assert docs[plain.image_id]["status"] == "processed"
    assert (docs[named.image_id]["status"], docs[named.image_id]["reason"]) == (
        "rejected", "index_refused")
    assert docs[named.image_id]["source"].startswith(f"kafka:{settings.kafka_topic}/0/")
    store = open_store(settings.dataset_root, settings.s3)
    letter = json.loads(store.get_bytes(rejected_key(named.image_id)))
    assert letter["reason"] == "index_refused" and "camera" in letter["error"]
    rows = {row["image_id"]: row for row in manifest_rows_written(store)}
    assert rows[named.image_id]["status"] == "processed"  # its tensors are in the dataset anyway


def test_a_record_the_reader_cannot_parse_is_a_dead_letter_named_by_its_position(
    spark, stream_settings
):
    settings = stream_settings
    first, last = photo(309), photo(315)  # seeds divisible by 3: all on partition 0
    for batch in ([first], [unparsable(312)], [last]):  # one producer batch each: offsets 0, 1, 2
        produce(settings.kafka_bootstrap_servers, settings.kafka_topic, batch)

    query = start_stream(spark, settings, trigger={"availableNow": True})
    query.awaitTermination(300)

    assert query.exception() is None
    docs = documents(settings)
    assert docs[first.image_id]["status"] == docs[last.image_id]["status"] == "processed"
    source = f"kafka:{settings.kafka_topic}/0/1"
    letter = docs[image_id_of(source.encode())]
    assert (letter["status"], letter["reason"], letter["source"]) == (
        "rejected", "invalid_message", source)
    assert "could not be read" in letter["error"] and "not UTF-8" in letter["error"]

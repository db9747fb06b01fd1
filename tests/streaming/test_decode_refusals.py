"""The stream refuses what the API refuses on decode: a lying JPEG, a decode over the memory cap.

Produced straight to Kafka (as a client bypassing the API would), both become dead letters with
their reason, and the photo beside them is processed.
"""

from __future__ import annotations

import json

import pytest

from adapters.object_store import open_store
from dataset import DatasetReader
from dataset.layout import rejected_key
from kit.field_messages import Message, documents, photo_messages, produce
from kit.photos import flood_file, jpeg_declaring, photo_like
from photo.messages import encode_headers
from streaming.job import start_stream


def refused_message(name: str, value: bytes, partition: int) -> Message:
    return Message(name.encode(), value, encode_headers({"label": "maize"}), partition)


@pytest.mark.timeout(600)
def test_a_lying_jpeg_and_an_oversized_webp_are_dead_lettered_and_the_photo_is_processed(
    spark, stream_settings
):
    settings = stream_settings
    lying = refused_message("lying", jpeg_declaring(9000, 9000, photo_like(640, 480)), 0)
    webp = refused_message("webp", flood_file("webp_9000x9000"), 1)
    [photo] = photo_messages(1)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, [lying, webp, photo])

    query = start_stream(spark, settings, trigger={"availableNow": True})
    query.awaitTermination(300)

    assert not query.isActive, "the job did not finish its backlog in time"
    store = open_store(settings.dataset_root, settings.s3)
    rows = DatasetReader(store).manifest(status=None).set_index("image_id")
    docs = documents(settings)
    for message, reason in ((lying, "corrupt"), (webp, "too_many_pixels")):
        assert rows.loc[message.image_id, "reason"] == reason
        assert json.loads(store.get_bytes(rejected_key(message.image_id)))["reason"] == reason
        assert (docs[message.image_id]["status"], docs[message.image_id]["reason"]) == (
            "rejected", reason)
    assert rows.loc[photo.image_id, "status"] == "processed"

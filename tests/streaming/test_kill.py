"""`python -m streaming` killed with SIGKILL mid-run, then restarted: every photo exactly once."""

from __future__ import annotations

from adapters.object_store import open_store
from dataset import DatasetReader
from kit.field_messages import (
    documents,
    manifest_rows_written,
    photo_messages,
    produce,
)
from kit.launcher import kill
from tests.streaming.job_runs import PER_BATCH, batch_ids, start_job, wait_for

PHOTOS = 24


def test_a_job_killed_mid_batch_and_restarted_writes_every_photo_exactly_once(
    stream_settings, tmp_path
):
    settings, log = stream_settings, tmp_path / "job.log"
    photos = photo_messages(PHOTOS)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)
    checkpoint = settings.checkpoint_dir

    job = start_job(settings, log)
    try:
        wait_for(
            lambda: batch_ids(checkpoint, "commits")
            and batch_ids(checkpoint, "offsets") - batch_ids(checkpoint, "commits"),
            240, "batch in flight after a committed one", job, log,
        )
        kill(job)
    finally:
        kill(job)
    in_flight = batch_ids(checkpoint, "offsets") - batch_ids(checkpoint, "commits")
    assert in_flight and len(batch_ids(checkpoint, "commits")) < PHOTOS // PER_BATCH

    restarted = start_job(settings, log)
    try:
        wait_for(lambda: len(documents(settings)) == PHOTOS and
                 in_flight <= batch_ids(checkpoint, "commits"),
                 300, "every photo indexed", restarted, log)
    finally:
        kill(restarted)

    store = open_store(settings.dataset_root, settings.s3)
    written = [row["image_id"] for row in manifest_rows_written(store)]
    assert sorted(written) == sorted(photo.image_id for photo in photos)
    assert len(DatasetReader(store).manifest()) == PHOTOS
    assert set(documents(settings)) == {photo.image_id for photo in photos}

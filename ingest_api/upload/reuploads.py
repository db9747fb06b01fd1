"""A photo sent again: the answer that says it is already recorded, and how to change its label.

What a re-upload means is written once, in docs/ingest_api.md ("Sending a photo again"). The
API looks the photo up before taking it: one the pipeline has recorded, processed or rejected,
is answered 200 "duplicate" at once with its record, and is not sent to Kafka again. When the
look-up cannot be made (Elasticsearch down or busy) or the photo is still queued, the upload is
accepted as any other, and the stream counts the second copy as a duplicate
(streaming/sink.py).
"""

from __future__ import annotations

import logging

from flask import url_for

from ingest_api.records.image_records import IndexUnavailable, get_image_records

log = logging.getLogger(__name__)


def recorded_already(image_id: str) -> dict | None:
    """The photo's public record if the pipeline has recorded it; None when it has not, or when
    the index cannot say (the upload then goes on, and the stream sorts it out)."""
    try:
        return get_image_records().get(image_id)
    except IndexUnavailable as error:
        log.info("re-upload check of %s skipped, the index cannot say: %s", image_id, error)
        return None


def duplicate_answer(record: dict, sent_label: str | None) -> dict:
    """The 200 answer to a photo already recorded: its record, and what the sender can do."""
    image_id = record["image_id"]
    label_url = url_for("labels.correct_label", image_id=image_id)
    return {
        "status": "duplicate",
        "image_id": image_id,
        "message": duplicate_message(record, sent_label, label_url),
        "record": record,
        "correct_label": {"method": "PUT", "href": label_url},
    }


def duplicate_message(record: dict, sent_label: str | None, label_url: str) -> str:
    """Why nothing new happened, in words, with the way to a new label."""
    image_id = record["image_id"]
    if record["status"] != "processed":
        return (f"this photo was sent before and rejected ({record.get('reason')}); sending it "
                f"again changes nothing. If it belongs in the dataset, give an operator its "
                f"image id {image_id}")
    label = record.get("label")
    held = f"labelled {label}" if label else "with no label"
    sent = f" (you sent {sent_label})" if sent_label and sent_label != label else ""
    return (f"this photo is already in the dataset, {held}{sent}; it was not stored again. "
            f"To change its label, send PUT {label_url} with a JSON body such as "
            f'{{"label": "{sent_label or "maize"}"}}')

"""The label corrections table: one row per change of a photo's label, none for a non-change
but a review's confirmation; and which photos' predictions a person judged."""

from __future__ import annotations

from dataclasses import asdict, replace

import pyarrow as pa

from dataset.label_corrections import SCHEMA, CorrectionLog, LabelCorrection

PREDICTION_COLUMNS = ("prediction", "prediction_confidence", "prediction_margin", "model_version")


def correction(old: str | None, new: str, at: str) -> LabelCorrection:
    return LabelCorrection(image_id="ab" * 32, old_label=old, new_label=new, note=None,
                           device_id="phone-1", corrected_at=at, request_id=None)


def test_a_correction_to_the_label_the_photo_has_is_not_recorded(store):
    log = CorrectionLog.of(store)

    log.record(correction("maize", "wheat", "2026-12-07T08:00:00+00:00"))
    log.record(correction("wheat", "wheat", "2026-12-07T08:01:00+00:00"))
    log.record(correction(None, "maize", "2026-12-07T08:02:00+00:00"))

    assert [(c.old_label, c.new_label) for c in log.history("ab" * 32)] == [
        ("maize", "wheat"), (None, "maize")]
    assert log.latest_labels() == {"ab" * 32: "maize"}


def test_a_correction_keeps_the_prediction_it_overrules(store):
    log = CorrectionLog.of(store)
    overruled = replace(correction("maize", "wheat", "2026-12-07T08:00:00+00:00"),
                        prediction="maize", prediction_confidence=0.81, model_version="3")

    log.record(overruled)

    assert log.history("ab" * 32) == [overruled]


def test_a_reviews_confirmation_is_kept_and_marks_the_prediction_of_that_version_judged(store):
    log = CorrectionLog.of(store)
    confirmed = replace(correction("maize", "maize", "2026-12-07T08:00:00+00:00"),
                        prediction="maize", prediction_confidence=0.5, prediction_margin=0.05,
                        model_version="3")
    corrected = replace(confirmed, image_id="cd" * 32, new_label="wheat", model_version="4")

    log.record(confirmed, review=True)
    log.record(corrected)

    assert log.history("ab" * 32) == [confirmed]
    assert log.reviewed() == {"3": {"ab" * 32}, "4": {"cd" * 32}}


def test_a_table_made_before_the_prediction_columns_takes_them_at_its_next_correction(store):
    old_schema = pa.schema([field for field in SCHEMA if field.name not in PREDICTION_COLUMNS])
    old_row = asdict(correction("maize", "wheat", "2026-12-07T08:00:00+00:00"))
    log = CorrectionLog.of(store)
    log.append(pa.Table.from_pylist([{name: old_row[name] for name in old_schema.names}],
                                    schema=old_schema))
    assert [c.prediction for c in log.history("ab" * 32)] == [None]

    log.record(replace(correction("wheat", "rice", "2026-12-07T08:01:00+00:00"),
                       prediction="rice", prediction_confidence=0.5, model_version="4"))

    history = log.history("ab" * 32)
    assert [(c.new_label, c.prediction, c.model_version) for c in history] == [
        ("wheat", None, None), ("rice", "rice", "4")]
    assert log.latest_labels() == {"ab" * 32: "rice"}

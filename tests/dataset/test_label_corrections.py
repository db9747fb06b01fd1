"""The label corrections table: one row per change of a photo's label, none for a non-change."""

from __future__ import annotations

from dataset.label_corrections import CorrectionLog, LabelCorrection


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

"""The sink's bookkeeping of duplicates across the Kafka partitions of one micro-batch."""

from __future__ import annotations

from streaming.sink import split_duplicates


def row(image_id: str, source: str, duplicate_of: str | None = None) -> dict:
    return {"image_id": image_id, "source": source, "duplicate_of": duplicate_of}


def test_a_photo_two_partitions_carried_keeps_its_first_row_and_the_other_is_a_duplicate():
    rows = [row("a", "kafka:t/0/5"), row("b", "kafka:t/0/6"),
            row("a", "kafka:t/0/7", duplicate_of="kafka:t/0/5"),  # found so by its range
            row("a", "kafka:t/1/3")]  # the same photo on another partition

    kept, duplicates = split_duplicates(rows)

    assert [(r["image_id"], r["source"]) for r in kept] == [("a", "kafka:t/0/5"),
                                                            ("b", "kafka:t/0/6")]
    assert [(r["source"], r["duplicate_of"]) for r in duplicates] == [
        ("kafka:t/0/7", "kafka:t/0/5"), ("kafka:t/1/3", "kafka:t/0/5")]

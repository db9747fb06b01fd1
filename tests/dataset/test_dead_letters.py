"""`python -m dataset dead-letters ROOT`: the rejected photos with their reasons, newest first,
from a dataset written as the stream writes it, in a directory and on S3."""

from __future__ import annotations

import time

from dataset.__main__ import main
from dataset.dead_letters import count, dead_letters
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.writer import write_group
from photo.upload import Upload, process_upload
from tests.dataset.conftest import FRACTIONS, outcome

NOT_A_PHOTO = b"field notes, not a photo"


def write(store, name: str, *uploads: Upload) -> None:
    """One micro-batch of these uploads, committed, as the sink writes it."""
    outcomes = [process_upload(upload, n_variants=1, max_pixels=10**8) for upload in uploads]
    rows = write_group(store, "stream", name, outcomes)
    ManifestWriter(Manifest.of(store), FRACTIONS).commit(rows)


def test_the_rejected_photos_are_listed_newest_first_with_their_reasons(store, capsys):
    write(store, "t-p0-o0", Upload(NOT_A_PHOTO, "kafka:t/0/0", "maize"))
    rows = write_group(store, "stream", "t-p0-o1", [outcome(1)])
    ManifestWriter(Manifest.of(store), FRACTIONS).commit(rows)
    time.sleep(1.1)  # S3 times objects to the second
    write(store, "t-p0-o2", Upload(b"\x89PNG\r\n\x1a\n cut short", "kafka:t/0/2", "wheat"))

    letters = dead_letters(store)

    assert [(letter.label, letter.source) for letter in letters] == [
        ("wheat", "kafka:t/0/2"), ("maize", "kafka:t/0/0")]
    assert letters[0].rejected_at > letters[1].rejected_at
    assert all(letter.reason and letter.error for letter in letters)
    assert count(store) == 2

    assert main(["dead-letters", store.url("")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"2 rejected photo(s) in {store.url('')}, newest first:"
    assert [line.split()[3] for line in lines[1:]] == [letter.image_id for letter in letters]
    assert f"{letters[1].reason}: {letters[1].error}  (label maize, from kafka:t/0/0)" in lines[2]


def test_a_dataset_without_rejected_photos_says_so(store, capsys):
    rows = write_group(store, "stream", "t-p0-o0", [outcome(0)])
    ManifestWriter(Manifest.of(store), FRACTIONS).commit(rows)

    assert main(["dead-letters", store.url("")]) == 0
    assert capsys.readouterr().out == f"0 rejected photo(s) in {store.url('')}\n"

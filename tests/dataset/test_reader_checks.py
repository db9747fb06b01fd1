"""The reader says no instead of nothing: a root without a dataset, a store it cannot read and
a filter no row can match are errors with a sentence, never 0 rows."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from adapters.object_store import LocalStore, S3Store
from adapters.s3 import make_s3_client
from dataset import DatasetNotFound, DatasetReader, DatasetUnreachable, InvalidFilter
from dataset.manifest import Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.writer import write_group
from infra.processes import free_port
from infra.schemas import ensure_bucket, remove_bucket
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload


def upload(seed: int, label: str, data: bytes | None = None):
    data = data or encode(photo_like(160, 120, seed=seed), "jpeg")
    return process_upload(Upload(data, f"test:{seed}", label), n_variants=1, max_pixels=10**8)


def write_dataset(store) -> None:
    """Two maize photos, a wheat photo and a rejected file labelled rice."""
    outcomes = [upload(1, "maize"), upload(2, "maize"), upload(3, "wheat"),
                upload(4, "rice", b"not a photo")]
    rows = write_group(store, "batch", "part-0", outcomes)
    ManifestWriter(Manifest.of(store), (0.8, 0.1, 0.1)).commit(rows)


@pytest.fixture(scope="module")
def reader(tmp_path_factory) -> DatasetReader:
    root = tmp_path_factory.mktemp("dataset")
    write_dataset(LocalStore(root))
    return DatasetReader.open(str(root))


@pytest.fixture(scope="module")
def bucket(s3_stack):
    """A bucket of its own on the session's S3, holding a dataset under dataset/."""
    client, name = make_s3_client(s3_stack.s3), f"reader-checks-{uuid.uuid4().hex[:8]}"
    ensure_bucket(client, name)
    write_dataset(S3Store(name, "dataset", s3_stack.s3))
    yield name
    remove_bucket(client, name)


def test_the_status_filter_speaks_the_api_s_words(reader):
    assert len(reader.manifest()) == len(reader.manifest(status="processed")) == 3
    assert list(reader.manifest(status="rejected")["label"]) == ["rice"]
    assert len(reader.manifest(status=None)) == 4


def test_an_unknown_status_names_the_valid_ones(reader):
    with pytest.raises(InvalidFilter, match=r"status='ok'.*'processed', 'rejected'"):
        reader.manifest(status="ok")


def test_an_unknown_split_names_train_val_and_test(reader):
    with pytest.raises(InvalidFilter, match=r"split='training'.*'train', 'val', 'test'"):
        reader.manifest(split="training")


def test_labels_match_exactly_and_a_label_in_another_case_is_named(reader):
    assert list(reader.manifest(label="maize")["label"]) == ["maize", "maize"]
    with pytest.raises(InvalidFilter, match=r"label='Maize'.*did you mean 'maize'\?"):
        reader.manifest(label="Maize")


def test_a_label_no_row_carries_names_the_dataset_s_labels(reader):
    with pytest.raises(InvalidFilter, match=r"label='soy'.*'maize', 'rice', 'wheat'$"):
        reader.manifest(label="soy")


def test_a_label_only_rejected_rows_carry_is_known_and_matches_no_processed_row(reader):
    assert reader.manifest(label="rice").empty


def test_a_variant_no_row_has_names_the_rows_variants(reader):
    assert {meta["variant"] for _, _, meta in reader.samples(variants=["aug0"])} == {"aug0"}
    with pytest.raises(InvalidFilter, match=r"variants='aug1'.*'aug0', 'base'"):
        next(reader.samples(variants=["base", "aug1"]))
    with pytest.raises(InvalidFilter, match=r"like \['base'\], not 'base'"):
        next(reader.samples(variants="base"))


@pytest.mark.parametrize("bounds", [{"bbox": (10.0, 0.0, 0.0, 1.0)}, {"brightness": (0.9, 0.1)}])
def test_an_empty_range_is_refused(reader, bounds):
    with pytest.raises(InvalidFilter, match="is empty"):
        reader.manifest(**bounds)


def test_a_directory_without_a_dataset_is_named(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(DatasetNotFound, match=f"no dataset at {tmp_path}: it holds no manifest"):
        DatasetReader.open(str(tmp_path))
    with pytest.raises(DatasetNotFound, match="datset: the directory does not exist"):
        DatasetReader.open(str(tmp_path / "datset"))


def test_a_misspelt_prefix_in_a_real_bucket_is_named(s3_stack, bucket):
    assert len(DatasetReader.open(f"s3://{bucket}/dataset", s3_stack.s3).manifest()) == 3
    with pytest.raises(DatasetNotFound, match=f"no dataset at s3://{bucket}/datset: "):
        DatasetReader.open(f"s3://{bucket}/datset", s3_stack.s3)


def test_a_wrong_bucket_is_a_sentence_naming_the_buckets_there(s3_stack, bucket):
    with pytest.raises(DatasetUnreachable) as refused:
        DatasetReader.open(f"s3://{bucket}-typo/dataset", s3_stack.s3)
    message = str(refused.value)
    assert f"has no bucket named '{bucket}-typo'; its buckets are " in message
    assert bucket in message.split("its buckets are ")[1]
    assert "\x1b" not in message and "\n" not in message


def test_refused_keys_are_a_sentence(s3_stack, bucket):
    wrong = replace(s3_stack.s3, secret_key="not-the-secret")
    with pytest.raises(DatasetUnreachable, match="refused the access key"):
        DatasetReader.open(f"s3://{bucket}/dataset", wrong)


def test_no_s3_server_is_a_sentence(s3_stack):
    nowhere = replace(s3_stack.s3, endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(DatasetUnreachable, match="S3 does not answer at http://127.0.0.1:"):
        DatasetReader.open("s3://field-images/dataset", nowhere)


def test_an_s3_root_without_the_settings_of_its_store_is_refused_not_guessed(monkeypatch):
    monkeypatch.setenv("S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ValueError, match="s3://field-images/dataset: an s3:// root needs the "):
        DatasetReader.open("s3://field-images/dataset")


def test_a_manifest_written_before_processed_was_the_word_reads_the_same(tmp_path):
    store = LocalStore(tmp_path)
    write_dataset(store)
    rows = Manifest.of(store).rows().to_pylist()
    old = [{**row, "status": "ok"} for row in rows if row["status"] == "processed"]
    Manifest.of(store).commit(old, replace_ids={row["image_id"] for row in old})

    reader = DatasetReader.open(str(tmp_path))

    assert set(Manifest.of(store).rows().column("status").to_pylist()) == {"ok", "rejected"}
    assert len(reader.manifest()) == 3 and set(reader.manifest(status=None)["status"]) == {
        "processed", "rejected"}

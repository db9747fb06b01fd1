"""Scoring a dataset with the champion (model/score.py): the photos without a prediction, or with
one of another version, are predicted on Spark into the manifest, and the search documents follow
the manifest; a second run predicts nothing. `python -m model score` asks the real registry, and
says in one sentence what it lacks."""

from __future__ import annotations

import uuid
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.object_store import S3Store
from adapters.s3 import make_s3_client
from batch.job import run_batch
from dataset.reader import DatasetReader
from infra.processes import free_port
from infra.schemas import ensure_bucket, ensure_index, remove_bucket, remove_index
from kit.photos import encode, photo_like
from model.__main__ import main
from model.runtime import inference_session
from model.score import score
from tests.model.conftest import use_settings
from tests.model.tiny_models import colour_classifier, make_champion, register_tiny, served_model

CROPS = ("maize", "wheat")
PHOTOS_PER_CROP = 3


@pytest.fixture(scope="module")
def scored(model_settings, es_stack, tmp_path_factory):
    """A dataset and its index written by the batch job without a model, then scored with
    version 1, version 2 and version 2 again: (settings, reader, search, reports, champions)."""
    suffix = uuid.uuid4().hex[:10]
    settings = replace(model_settings,
                       elasticsearch_index=f"{es_stack.elasticsearch_index}-{suffix}")
    bucket, client = f"score-{suffix}", make_s3_client(settings.s3)
    ensure_bucket(client, bucket)
    search = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
    ensure_index(search, settings.elasticsearch_index)
    folder = tmp_path_factory.mktemp("photos")
    for number, crop in enumerate(CROPS):
        (folder / crop).mkdir()
        for i in range(PHOTOS_PER_CROP):
            photo = photo_like(320, 240, seed=100 * number + i)
            (folder / crop / f"{i}.jpg").write_bytes(encode(photo, "jpeg"))
    store = S3Store(bucket, "dataset", settings.s3)
    run_batch(folder, store, spark_settings=settings, n_variants=0, max_pixels=10**8,
              shard_digits=1, split_fractions=(0.6, 0.2, 0.2), search=search,
              index=settings.elasticsearch_index)
    models = tmp_path_factory.mktemp("models")
    champions = [served_model(models, str(version), colour_classifier(CROPS, seed=version))
                 for version in (1, 2)]
    reader = DatasetReader.open(f"s3://{bucket}/dataset", settings.s3)
    reports = [score(reader, champion, settings, search)
               for champion in (champions[0], champions[1], champions[1])]
    yield settings, reader, search, reports, champions
    remove_index(search, settings.elasticsearch_index)
    remove_bucket(client, bucket)


def expected(reader: DatasetReader, champion) -> dict[str, tuple[str, float, float]]:
    """image id -> (crop, confidence, margin) of the champion run directly on each stored base
    tensor."""
    bases = {meta["image_id"]: tensor for tensor, _, meta in reader.samples(variants=["base"])}
    session = inference_session(champion.path.read_bytes())
    answers = session.run(None, {"image": np.stack(list(bases.values()))})[0]
    return {image_id: (CROPS[answer.argmax()], float(answer.max()),
                       float(np.sort(answer)[-1] - np.sort(answer)[-2]))
            for image_id, answer in zip(bases, answers, strict=True)}


def test_photos_without_a_prediction_are_predicted_then_those_of_another_version(scored):
    _, _, _, (first, second, _), _ = scored
    photos = len(CROPS) * PHOTOS_PER_CROP

    assert (first.processed, first.unpredicted, first.other_version) == (photos, photos, 0)
    assert (first.predicted, first.failed, first.documents_updated) == (photos, 0, photos)
    assert (second.unpredicted, second.other_version, second.predicted) == (0, photos, photos)
    assert second.documents_updated == photos


def test_the_manifest_and_every_document_hold_the_champions_answer_on_the_base_tensor(scored):
    settings, reader, search, _, (_, champion) = scored
    rows = DatasetReader(reader.store).manifest().set_index("image_id")
    answers = expected(reader, champion)

    assert sorted(answers) == sorted(rows.index)
    for image_id, (crop, confidence, margin) in answers.items():
        row = rows.loc[image_id]
        assert (row.prediction, row.model_version) == (crop, "2")
        assert row.prediction_confidence == pytest.approx(confidence, rel=1e-6)
        assert row.prediction_margin == pytest.approx(margin, rel=1e-5, abs=1e-6)
        document = search.get(index=settings.elasticsearch_index, id=image_id)["_source"]
        assert (document["prediction"], document["model_version"]) == (crop, "2")
        assert document["prediction_confidence"] == row.prediction_confidence
        assert document["prediction_margin"] == row.prediction_margin
        assert document["label"] == row.label and document["status"] == "processed"


def test_a_second_run_with_the_same_champion_predicts_nothing_and_updates_nothing(scored):
    _, _, _, (_, _, again), _ = scored
    assert (again.unpredicted, again.other_version, again.predicted) == (0, 0, 0)
    assert again.documents_updated == 0
    assert "nothing to predict" in "\n".join(again.lines())


def test_documents_left_behind_by_an_index_outage_catch_up_on_the_next_run(scored):
    settings, reader, search, _, (_, champion) = scored
    behind = DatasetReader(reader.store).manifest()["image_id"].iloc[0]
    search.update(index=settings.elasticsearch_index, id=behind, refresh=True,
                  doc={"prediction": None, "prediction_confidence": None, "model_version": None})

    report = score(DatasetReader(reader.store), champion, settings, search)

    assert (report.predicted, report.documents_updated) == (0, 1)
    document = search.get(index=settings.elasticsearch_index, id=behind)["_source"]
    assert document["model_version"] == "2"


def test_the_champions_predictions_from_before_margins_are_made_again(scored):
    settings, reader, search, _, (_, champion) = scored
    rows = DatasetReader(reader.store).manifest()
    older = rows["image_id"].iloc[1]
    no_margin = pa.table({"image_id": [older], "prediction_margin": pa.array([None], pa.float64())})
    reader.manifest_table.set_columns(no_margin)

    report = score(DatasetReader(reader.store), champion, settings, search)

    assert (report.unpredicted, report.other_version, report.marginless) == (0, 0, 1)
    assert report.predicted == 1 and "1 one without its margin" in "\n".join(report.lines())
    again = DatasetReader(reader.store).manifest().set_index("image_id")
    assert again.loc[older, "prediction_margin"] >= 0


@pytest.fixture(scope="module")
def champion_settings(scored):
    """The scored dataset's settings with a model name of their own whose champion is a small
    classifier registered in the real MLflow; (settings, its version, the dataset's root)."""
    settings, reader, _, _, _ = scored
    settings = replace(settings, model_name=f"score-{uuid.uuid4().hex[:8]}")
    version = register_tiny(settings, colour_classifier(CROPS, seed=7))
    make_champion(settings, version)
    return settings, version, reader.store.url("")


def refusal(capsys, argv: list[str]) -> str:
    """What `python -m model ARGV` says when it exits 1."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 1
    return capsys.readouterr().err.strip()


def test_the_command_predicts_with_the_registry_s_champion_and_says_what_it_did(
    champion_settings, capsys, monkeypatch
):
    settings, version, root = champion_settings
    use_settings(monkeypatch, settings)

    assert main(["score", root]) == 0

    printed = capsys.readouterr().out.splitlines()
    photos = len(CROPS) * PHOTOS_PER_CROP
    assert printed[0] == f"champion: {settings.model_name} version {version}"
    assert printed[1] == (f"manifest: {photos} of the {photos} photos to predict predicted (0 had "
                          f"no prediction, {photos} one from another version), of {photos} "
                          "processed photos")
    assert printed[2] == f"search index: {photos} documents updated"
    rows = DatasetReader.open(root, settings.s3).manifest()
    assert (rows["model_version"] == version).all()


def test_no_champion_no_registry_no_dataset_or_no_index_is_one_sentence(
    champion_settings, capsys, monkeypatch
):
    settings, _, root = champion_settings
    nobody = replace(settings, model_name=f"nobody-{uuid.uuid4().hex[:8]}")
    down = replace(settings, mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}")
    no_index = replace(settings, elasticsearch_url=f"http://127.0.0.1:{free_port()}")
    said = {}
    for name, case, argv in (("nobody", nobody, [root]), ("down", down, [root]),
                             ("typo", settings, [root.rstrip("/") + "-typo"]),
                             ("no index", no_index, [root, "--index", "on"])):
        use_settings(monkeypatch, case)
        said[name] = refusal(capsys, ["score", *argv])

    assert said["nobody"] == (f"score: the registry has no champion of {nobody.model_name} yet, "
                              "so there is nothing to predict with (python -m model promote "
                              "VERSION)")
    assert said["down"].startswith("score: the model registry (MLflow) does not answer at "
                                   f"{down.mlflow_tracking_uri}")
    assert said["typo"].startswith("score: no dataset at ")
    assert said["no index"].startswith(f"score: Elasticsearch does not answer at "
                                       f"{no_index.elasticsearch_url}")
    assert all("\n" not in sentence and "Traceback" not in sentence for sentence in said.values())

"""The whole loop on the real stack (docs/model.md, "The loop"): photos come in through the API
and the running stream, a first model is trained on a pinned snapshot and promoted, it predicts
the photos, a person corrects the wrong labels in the review queue, a second model learns from
the corrected snapshot and passes the gate, and the API and the running stream answer with it,
each prediction leading back to the data its model learned from.

nginx, the API (gunicorn) and the stream run as the native deploy runs them (tests/pipeline.py),
on a topic, dataset, index and registered model of their own; the commands run in this process
through their `main(argv)`, as an operator types them.

The photos are synthetic, drawn by img/make_samples.py with fixed seeds: the same bytes, image
ids, splits and models every run, so the gate's verdict is the same every run.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

import dataset.__main__ as dataset_cli
import model.__main__ as model_cli
from dataset import DatasetReader
from infra.processes import free_port
from infra.schemas import remove_schemas
from infra.stack import LocalStack
from kit.api_client import Answer
from kit.drawings import generator
from settings import Settings
from tests.model.conftest import use_settings
from tests.model.field_photos import IMG
from tests.pipeline import api_client, running_pipeline

# Photos that arrive after the first model, drawn with another seed than img/'s: three per crop.
LATER_SEED, LATER_PER_CROP = 17, 3
# Three of them arrive with a wrong label: (crop, number) -> the label the farmer sent.
MISLABELLED = {("maize", 0): "wheat", ("wheat", 1): "cassava", ("coffee", 2): "maize"}
# Photos that arrive after the second model, one at a time, from a third seed.
LAST_SEED = 23
PROCESSING_TIMEOUT_S = 300
SWITCH_WITHIN_S = 60


@pytest.fixture
def pipeline(kafka_stack, es_stack, mlflow_stack, tmp_path):
    """nginx, the API and the stream up, with a registered model of their own that they ask
    the registry about every 2 s; splits 0.6/0.2/0.2, so a few dozen photos give a test split
    for the gate; one augmented variant per photo. The topic, bucket and index are removed
    afterwards."""
    with running_pipeline(kafka_stack, es_stack, str(tmp_path / "checkpoint"), "loop",
                          model_name=f"{mlflow_stack.model_name}-loop", model_refresh_s=2.0,
                          split_fractions="0.6,0.2,0.2", n_variants=1) as settings:
        yield settings
    remove_schemas(settings, ["s3", "kafka", "es"])


def draw(folder: Path, seed: int, crop_index: int, number: int) -> Path:
    return generator().write_photo(crop_index, number, folder, seed=seed)


def post(settings: Settings, photo: Path, label: str) -> str:
    """POST /post_image as a phone sends it; the image id."""
    response = api_client(settings).post_image(photo.read_bytes(), photo.name, label=label)
    assert response.status == 202, response.text
    return response.json()["image_id"]


def get(settings: Settings, path: str) -> dict:
    response = api_client(settings).request("GET", path)
    assert response.status == 200, response.text
    return response.json()


def wait_for_records(settings: Settings, image_ids) -> dict[str, dict]:
    """GET /images/<id> until every photo is processed; their records."""
    records: dict[str, dict] = {}
    deadline = time.monotonic() + PROCESSING_TIMEOUT_S
    while set(image_ids) - set(records):
        assert time.monotonic() < deadline, f"not processed: {set(image_ids) - set(records)}"
        for image_id in set(image_ids) - set(records):
            response = api_client(settings).image(image_id)
            if response.status == 200:
                records[image_id] = response.json()
        time.sleep(1)
    assert {record["status"] for record in records.values()} == {"processed"}
    return records


def run(cli, settings: Settings, *argv: str) -> list[str]:
    """`python -m <cli> ARGV` with the pipeline's settings in its environment: its lines."""
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        use_settings(patch, settings)
        code = cli.main(list(argv))
    assert code == 0, printed.getvalue()
    return printed.getvalue().splitlines()


def classify(settings: Settings, photo: Path) -> Answer:
    return api_client(settings).classify(photo.read_bytes(), photo.name)


@pytest.mark.timeout(1200)  # 3.5 to 5.5 min on 2 cores, 10.5 at load 12 to 16: two trainings
def test_corrections_in_the_review_queue_reach_the_stream_through_the_next_champion(
    pipeline, tmp_path
):
    root = pipeline.dataset_root
    commands = replace(pipeline, spark_ui_port=free_port())  # Spark in this process: local[2]
    stream = LocalStack(pipeline).servers["stream"].process
    stream_pid = stream.pid()
    truth: dict[str, str] = {}

    # 1. Photos come in: img/'s 28, correctly labelled, while no model exists.
    first = {post(pipeline, photo, photo.parent.name): photo.parent.name
             for photo in sorted(IMG.glob("*/*.jpg"))}
    truth |= first
    records = wait_for_records(pipeline, first)
    assert all(record["model_version"] is None for record in records.values())

    # 2. A snapshot pins them; the first model learns from it and becomes the champion.
    assert run(dataset_cli, commands, "snapshot", root, "v1")[-1].startswith("v1: version ")
    v1 = run(model_cli, commands, "train", root, "--snapshot", "v1")[-1]
    assert run(model_cli, commands, "promote", v1)[-1].startswith(
        f"promoted: {pipeline.model_name} version {v1} is the champion (there was none)")

    # 3. Predictions appear: the operator scores the photos that came in without a model, and
    #    the stream predicts the next ones as they arrive, a few of them labelled wrong.
    assert run(model_cli, commands, "score", root)[1:] == [
        f"manifest: {len(first)} of the {len(first)} photos to predict predicted "
        f"({len(first)} had no prediction, 0 one from another version), of {len(first)} "
        "processed photos", f"search index: {len(first)} documents updated"]
    later, mislabelled = {}, set()
    for crop_index, crop in enumerate(generator().CROPS):
        for number in range(LATER_PER_CROP):
            photo = draw(tmp_path / "later", LATER_SEED, crop_index, number)
            image_id = post(pipeline, photo, MISLABELLED.get((crop.name, number), crop.name))
            later[image_id] = crop.name
            if (crop.name, number) in MISLABELLED:
                mislabelled.add(image_id)
    truth |= later
    records = wait_for_records(pipeline, truth)
    assert {record["model_version"] for record in records.values()} == {v1}
    assert {image_id: records[image_id]["prediction"] for image_id in later} == later

    # 4. The review queue shows first the predictions that need a person: the uncertain ones
    #    and those that differ from their label. A person looks at the first photo and says
    #    what it shows (a wrong label is corrected, a right one confirmed), and the queue moves
    #    on, until only predictions that agree with their label and are sure are left.
    queue = get(pipeline, "/review/queue?limit=100")
    assert queue["waiting"] == len(truth)
    corrected, reviewed = set(), []
    while (item := queue["items"][0])["reason"] != "unreviewed":
        response = api_client(pipeline).request("PUT", f"{item['record']}/label",
                                                json={"label": truth[item["image_id"]],
                                                      "review": True})
        assert response.status == 200, response.text
        judged = response.json()["history"][-1]
        assert (judged["new_label"], judged["prediction"], judged["model_version"]) == (
            truth[item["image_id"]], item["prediction"], v1)
        if response.json()["changed"]:
            corrected.add(item["image_id"])
        reviewed.append(item["image_id"])
        queue = get(pipeline, "/review/queue?limit=100")
        assert queue["waiting"] == len(truth) - len(reviewed)
    assert corrected == mislabelled, queue["items"]
    assert {item["reason"] for item in queue["items"]} == {"unreviewed"}

    # 5. A second snapshot holds every photo with the corrected labels; the second model
    #    learns from it and passes the gate on that snapshot's test split.
    assert run(dataset_cli, commands, "snapshot", root, "v2")[-1].startswith("v2: version ")
    rows = DatasetReader.open(root, pipeline.s3, snapshot="v2").manifest()
    assert dict(zip(rows["image_id"], rows["label"], strict=True)) == truth
    rows = DatasetReader.open(root, pipeline.s3, snapshot="v1").manifest()
    assert dict(zip(rows["image_id"], rows["label"], strict=True)) == first  # as it was
    v2 = run(model_cli, commands, "train", root, "--snapshot", "v2")[-1]
    promoted = run(model_cli, commands, "promote", v2)
    assert promoted[0].startswith("evaluation set: the test split of snapshot 'v2' of "
                                  f"{root} "), promoted
    assert promoted[-1].startswith(
        f"promoted: {pipeline.model_name} version {v2} is the champion (was {v1}): macro-F1 "
    ), promoted
    [promotion] = [change for change in json.loads("\n".join(run(
        model_cli, commands, "history", "--json"))) if change["to_version"] == v2
        and change["alias"] == "champion"]
    assert (promotion["action"], promotion["forced"], promotion["gate"]["passed"]) == (
        "promote", False, True)

    # 6. The new champion answers /classify, and the running stream predicts with it.
    deadline = time.monotonic() + SWITCH_WITHIN_S
    photo = draw(tmp_path / "last", LAST_SEED, 0, 0)
    while (answer := classify(pipeline, photo).json())["model"]["version"] != v2:
        assert time.monotonic() < deadline, f"/classify still answers with {answer['model']}"
        time.sleep(1)
    newest, versions = [], []
    deadline = time.monotonic() + SWITCH_WITHIN_S
    while v2 not in versions[:-1]:  # and one photo more after the first of v2
        assert time.monotonic() < deadline, f"the stream still predicts with {versions}"
        photo = draw(tmp_path / "last", LAST_SEED, len(newest) % 4, len(newest) // 4)
        newest.append(post(pipeline, photo, photo.parent.name))
        versions.append(wait_for_records(pipeline, newest[-1:])[newest[-1]]["model_version"])
    switched = versions.index(v2)
    assert versions == [v1] * switched + [v2] * (len(versions) - switched)
    assert stream.pid() == stream_pid  # the same process throughout: no restart

    # 7. Lineage: each prediction leads to its model, and each model to its snapshot, the
    #    Delta version that snapshot pins and the rows it learned from.
    pinned = dict(line.split("\t")[:2] for line in run(dataset_cli, commands, "snapshots", root))
    delta = {name: int(version.removeprefix("version ")) for name, version in pinned.items()}
    assert delta["v1"] < delta["v2"]
    for image_id, version, snapshot in ((next(iter(first)), v1, "v1"),
                                        (newest[-1], v2, "v2")):
        lineage = get(pipeline, f"/images/{image_id}")["prediction_lineage"]
        assert (lineage["model_name"], lineage["model_version"], lineage["dataset_root"],
                lineage["snapshot"], lineage["delta_version"]) == (
            pipeline.model_name, version, root, snapshot, delta[snapshot])
    listed = {item["version"]: item
              for item in json.loads("\n".join(run(model_cli, commands, "versions", "--json")))}
    assert sorted(listed) == sorted([v1, v2])
    assert (listed[v1]["dataset.snapshot"], listed[v1]["dataset.delta_version"],
            listed[v1]["dataset.rows"]) == ("v1", str(delta["v1"]), str(len(first)))
    assert (listed[v2]["dataset.snapshot"], listed[v2]["dataset.delta_version"],
            listed[v2]["dataset.rows"]) == ("v2", str(delta["v2"]), str(len(truth)))
    assert (listed[v1]["aliases"], listed[v2]["aliases"]) == ([], ["champion"])

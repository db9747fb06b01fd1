"""The champion of a long-running process: the registry's answer served, a new champion swapped in
without a failed request, the last model kept through registry outages, and the cached champion
served by a process that starts while the registry is down.

The registry is a function here (what `registry.champion` answers, or its RegistryUnavailable);
the models are a real trained ONNX file under two version numbers, in real ONNX Runtime.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from model.champion import Champion, ModelUnavailable, NoModel
from model.registry import RegistryUnavailable, ServedModel
from settings import PROJECT_ROOT

TENSOR = np.full((224, 224, 3), 120, np.uint8)


class Registry:
    """What the registry answers at the moment: a champion, none, or RegistryUnavailable."""

    def __init__(self, answer: ServedModel | None = None):
        self.answer: ServedModel | None | Exception = answer
        self.asked = 0

    def champion(self) -> ServedModel | None:
        self.asked += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


DOWN = RegistryUnavailable("MLflow at http://127.0.0.1:1 does not answer")


@pytest.fixture(scope="module")
def versions(trained, tmp_path_factory) -> dict[str, ServedModel]:
    """Version "1" and "2" of crop-classifier, laid out as the model cache holds them."""
    cache = tmp_path_factory.mktemp("models")
    models = {}
    for version in ("1", "2"):
        path = cache / "crop-classifier" / version / "model.onnx"
        path.parent.mkdir(parents=True)
        path.write_bytes(trained.onnx)
        models[version] = ServedModel("crop-classifier", version, f"run{version}", path,
                                      {"dataset.snapshot": "v1"})
    return models


@pytest.fixture
def pointer(tmp_path):
    return tmp_path / "crop-classifier" / "champion.json"


def champion_of(registry: Registry, pointer, **options) -> Champion:
    return Champion(registry.champion, refresh_s=0.05, pointer=pointer, **options)


def served_version(champion: Champion) -> str:
    return champion.serving().model.version


def test_it_serves_the_registrys_champion_and_answers_with_it(versions, pointer):
    champion = champion_of(Registry(versions["1"]), pointer)
    champion.refresh()

    serving = champion.serving()
    assert serving.model == versions["1"]
    assert serving.predictor.predict(TENSOR).crop in serving.predictor.classes


def test_before_any_promotion_there_is_no_model(pointer):
    champion = champion_of(Registry(None), pointer)
    champion.refresh()

    with pytest.raises(NoModel):
        champion.serving()


def test_a_registry_down_at_start_without_a_cached_champion_leaves_the_model_unavailable(
        pointer, caplog):
    champion = champion_of(Registry(DOWN), pointer)
    with caplog.at_level(logging.WARNING, "model.champion"):
        champion.refresh()

    with pytest.raises(ModelUnavailable):
        champion.serving()
    assert "does not answer (MLflow at http://127.0.0.1:1 does not answer); no model is served" \
        in caplog.text


def test_a_new_champion_is_served_in_its_turn_and_the_change_reported(versions, pointer):
    registry, changes = Registry(versions["1"]), []
    champion = champion_of(registry, pointer, on_change=changes.append)
    champion.refresh()
    registry.answer = versions["2"]
    champion.refresh()

    assert served_version(champion) == "2"
    assert changes == [versions["1"], versions["2"]]


def test_the_same_champion_is_not_loaded_again(versions, pointer):
    changes = []
    champion = champion_of(Registry(versions["1"]), pointer, on_change=changes.append)
    champion.refresh()
    predictor = champion.serving().predictor
    champion.refresh()

    assert champion.serving().predictor is predictor and changes == [versions["1"]]


def test_the_last_model_serves_on_while_the_registry_is_down_and_the_outage_is_logged_once(
        versions, pointer, caplog):
    registry = Registry(versions["1"])
    champion = champion_of(registry, pointer)
    champion.refresh()
    registry.answer = DOWN
    with caplog.at_level(logging.WARNING, "model.champion"):
        for _ in range(3):
            champion.refresh()
            assert served_version(champion) == "1"
        registry.answer = versions["1"]
        champion.refresh()

    assert [record.message for record in caplog.records] == [
        "the model registry does not answer (MLflow at http://127.0.0.1:1 does not answer); "
        "crop-classifier version 1 serves on",
        "the model registry answers again after 0 s",
    ]


def test_a_lookup_that_fails_unexpectedly_is_an_outage_too(versions, pointer, caplog):
    registry = Registry(versions["1"])
    champion = champion_of(registry, pointer)
    champion.refresh()
    registry.answer = KeyError("aliases")
    with caplog.at_level(logging.ERROR, "model.champion"):
        champion.refresh()

    assert served_version(champion) == "1"
    assert "asking the registry for the champion failed" in caplog.text


def test_a_model_file_that_does_not_load_leaves_the_served_one(versions, pointer, tmp_path,
                                                                caplog):
    damaged = tmp_path / "3" / "model.onnx"
    damaged.parent.mkdir()
    damaged.write_bytes(b"not an onnx file")
    registry = Registry(versions["1"])
    champion = champion_of(registry, pointer)
    champion.refresh()
    registry.answer = ServedModel("crop-classifier", "3", "run3", damaged, {})
    with caplog.at_level(logging.ERROR, "model.champion"):
        champion.refresh()

    assert served_version(champion) == "1"
    assert "cannot load crop-classifier version 3" in caplog.text


def test_a_champion_taken_away_is_no_longer_served(versions, pointer):
    registry = Registry(versions["1"])
    champion = champion_of(registry, pointer)
    champion.refresh()
    registry.answer = None
    champion.refresh()

    with pytest.raises(NoModel):
        champion.serving()


def test_a_process_started_while_the_registry_is_down_serves_the_champion_cached_last(
        versions, pointer, caplog):
    before_restart = champion_of(Registry(versions["2"]), pointer)
    before_restart.refresh()

    restarted = champion_of(Registry(DOWN), pointer)
    with caplog.at_level(logging.INFO, "model.champion"):
        restarted.start()
        try:
            assert restarted.serving().model == versions["2"]
        finally:
            restarted.close()
    assert "serving the cached champion crop-classifier version 2 (champion at " in caplog.text


def test_the_cached_champion_gives_way_to_the_registrys_once_it_answers(versions, pointer):
    champion_of(Registry(versions["1"]), pointer).refresh()
    registry = Registry(versions["2"])
    champion = champion_of(registry, pointer).start()
    try:
        deadline = time.monotonic() + 10
        while served_version(champion) != "2" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert served_version(champion) == "2"
    finally:
        champion.close()


def test_a_cached_champion_whose_file_is_gone_is_not_served(versions, pointer, tmp_path):
    copy = tmp_path / "copy" / "model.onnx"
    copy.parent.mkdir()
    shutil.copy(versions["1"].path, copy)
    champion_of(Registry(ServedModel("crop-classifier", "1", "run1", copy, {})), pointer).refresh()
    copy.unlink()

    champion = champion_of(Registry(DOWN), pointer).start()
    try:
        with pytest.raises(ModelUnavailable):
            champion.serving()
    finally:
        champion.close()


def test_requests_during_a_swap_all_get_an_answer(versions, pointer):
    """A thread swaps between the two versions as fast as it can while another predicts."""
    registry = Registry(versions["1"])
    champion = champion_of(registry, pointer)
    champion.refresh()
    stop, answered, failures = threading.Event(), set(), []

    def ask():
        while not stop.is_set():
            try:
                serving = champion.serving()
                serving.predictor.predict(TENSOR)
                answered.add(serving.model.version)
            except Exception as error:  # the test counts every failure
                failures.append(error)

    asking = threading.Thread(target=ask)
    asking.start()
    try:
        for version in ("2", "1", "2", "1", "2"):
            registry.answer = versions[version]
            champion.refresh()
            time.sleep(0.05)
    finally:
        stop.set()
        asking.join()
    assert failures == [] and answered == {"1", "2"}


def test_serving_needs_neither_torch_nor_scikit_learn_nor_the_onnx_tools():
    code = ("import sys, model.champion; "
            "print(sorted({'torch', 'sklearn', 'skl2onnx', 'onnx'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"

"""The champion of a long-running process, on the real MLflow: the registry's champion served, a
new champion swapped in without a failed request, the last model kept while the registry does not
answer, and the cached champion served by a process that starts while it is down.

Two versions of one registered model (the same trained file, registered twice) play the
champion in turn; a registry "down" is the same settings pointed at an address where nothing
listens.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace

import numpy as np
import pytest

from infra.processes import free_port
from model.champion import POINTER_FILE, Champion, ModelUnavailable, NoModel
from model.promotion import move
from model.registry import CHAMPION, champion, register
from settings import PROJECT_ROOT

TENSOR = np.full((224, 224, 3), 120, np.uint8)
REFRESH_S = 0.2


@pytest.fixture(scope="module")
def registered(trained, model_settings):
    """(settings with a model name of this module's own, its versions "1" and "2")."""
    settings = replace(model_settings, model_name=f"champion-{uuid.uuid4().hex[:8]}")
    return settings, (register(settings, trained), register(settings, trained))


@pytest.fixture
def settings(registered, tmp_path_factory):
    """The module's registry, with a model cache of the module's own."""
    settings, _ = registered
    return replace(settings, model_cache_dir=str(tmp_path_factory.getbasetemp() / "champions"))


@pytest.fixture
def pointer(tmp_path):
    """Where a test's champions note the champion they serve: a machine of the test's own."""
    return tmp_path / POINTER_FILE


@pytest.fixture
def versions(registered) -> tuple[str, str]:
    return registered[1]


def promote(settings, version: str) -> None:
    move(settings, CHAMPION, version, "promote", "a test's champion", forced=True)


class Lookup:
    """registry.champion on settings the test may point at an address where nothing listens."""

    def __init__(self, settings):
        self.settings = settings

    def __call__(self):
        return champion(self.settings)

    def go_down(self) -> None:
        self.settings = replace(self.settings,
                                mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}")


def champion_of(settings_or_lookup, pointer, **options) -> Champion:
    """A Champion asking the registry (or the lookup) every REFRESH_S."""
    lookup = settings_or_lookup
    if not isinstance(lookup, Lookup):
        lookup = Lookup(lookup)
    return Champion(lookup, REFRESH_S, pointer, **options)


def served_version(champion: Champion) -> str:
    return champion.serving().model.version


def test_it_serves_the_registrys_champion_and_answers_with_it(settings, versions, pointer):
    promote(settings, versions[0])
    champion = champion_of(settings, pointer)
    champion.refresh()

    serving = champion.serving()
    assert serving.model == champion.find()
    assert serving.model.version == versions[0]
    assert serving.predictor.predict(TENSOR).crop in serving.predictor.classes


def test_before_any_model_is_registered_there_is_no_model(settings, pointer):
    nothing_yet = replace(settings, model_name=f"unregistered-{uuid.uuid4().hex[:8]}")
    champion = champion_of(nothing_yet, pointer)
    champion.refresh()

    with pytest.raises(NoModel):
        champion.serving()


def test_a_registry_down_at_start_without_a_cached_champion_leaves_the_model_unavailable(
        settings, pointer, caplog):
    lookup = Lookup(settings)
    lookup.go_down()
    champion = champion_of(lookup, pointer)
    with caplog.at_level(logging.WARNING, "model.champion"):
        champion.refresh()

    with pytest.raises(ModelUnavailable):
        champion.serving()
    assert "the model registry does not answer (the model registry (MLflow) does not answer at " \
        in caplog.text
    assert "no model is served until it answers" in caplog.text


def test_a_new_champion_is_served_in_its_turn_and_the_change_reported(settings, versions,
                                                                      pointer):
    promote(settings, versions[0])
    changes = []
    champion = champion_of(settings, pointer, on_change=changes.append)
    champion.refresh()
    promote(settings, versions[1])
    champion.refresh()

    assert served_version(champion) == versions[1]
    assert [model.version for model in changes] == list(versions)


def test_the_same_champion_is_not_loaded_again(settings, versions, pointer):
    promote(settings, versions[0])
    changes = []
    champion = champion_of(settings, pointer, on_change=changes.append)
    champion.refresh()
    predictor = champion.serving().predictor
    champion.refresh()

    assert champion.serving().predictor is predictor and len(changes) == 1


def test_the_last_model_serves_on_while_the_registry_is_down_and_the_outage_is_logged_once(
        settings, versions, pointer, caplog):
    promote(settings, versions[0])
    lookup = Lookup(settings)
    champion = champion_of(lookup, pointer)
    champion.refresh()
    answering = lookup.settings
    lookup.go_down()
    with caplog.at_level(logging.WARNING, "model.champion"):
        for _ in range(2):
            champion.refresh()
            assert served_version(champion) == versions[0]
        lookup.settings = answering
        champion.refresh()

    messages = [record.message for record in caplog.records if record.name == "model.champion"]
    assert len(messages) == 2
    assert messages[0].startswith("the model registry does not answer (the model registry "
                                  "(MLflow) does not answer at http://127.0.0.1:")
    assert messages[0].endswith(f"{settings.model_name} version {versions[0]} serves on")
    assert messages[1].startswith("the model registry answers again after ")


def test_a_cached_file_that_does_not_load_leaves_the_served_model(settings, versions, pointer,
                                                                  tmp_path, caplog):
    settings = replace(settings, model_cache_dir=str(tmp_path / "models"))  # damaged below
    promote(settings, versions[0])
    champion = champion_of(settings, pointer)
    champion.refresh()
    promote(settings, versions[1])
    damaged = champion.find().path  # version 2, cached by this lookup
    damaged.write_bytes(b"not an onnx file")
    with caplog.at_level(logging.ERROR, "model.champion"):
        champion.refresh()

    assert served_version(champion) == versions[0]
    assert f"cannot load {settings.model_name} version {versions[1]}" in caplog.text


def test_a_champion_taken_away_is_no_longer_served(settings, versions, pointer):
    promote(settings, versions[0])
    champion = champion_of(settings, pointer)
    champion.refresh()
    move(settings, CHAMPION, None, "promote", "a test takes the champion away", forced=True)
    champion.refresh()

    with pytest.raises(NoModel):
        champion.serving()


def test_a_process_started_while_the_registry_is_down_serves_the_champion_cached_last(
        settings, versions, pointer, caplog):
    promote(settings, versions[1])
    before_restart = champion_of(settings, pointer)
    before_restart.refresh()
    assert pointer.is_file()

    lookup = Lookup(settings)
    lookup.go_down()
    restarted = champion_of(lookup, pointer)
    with caplog.at_level(logging.INFO, "model.champion"):
        restarted.start()
        try:
            assert served_version(restarted) == versions[1]
        finally:
            restarted.close()
    assert (f"serving the cached champion {settings.model_name} version {versions[1]} "
            "(champion at ") in caplog.text


def test_the_cached_champion_gives_way_to_the_registrys_once_it_answers(settings, versions,
                                                                        pointer):
    promote(settings, versions[0])
    champion_of(settings, pointer).refresh()
    promote(settings, versions[1])
    champion = champion_of(settings, pointer).start()
    try:
        deadline = time.monotonic() + 30
        while served_version(champion) != versions[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served_version(champion) == versions[1]
    finally:
        champion.close()


def test_a_cached_champion_whose_file_is_gone_is_not_served(settings, versions, pointer,
                                                            tmp_path):
    settings = replace(settings, model_cache_dir=str(tmp_path / "models"))  # emptied below
    promote(settings, versions[0])
    before_restart = champion_of(settings, pointer)
    before_restart.refresh()
    before_restart.serving().model.path.unlink()

    lookup = Lookup(settings)
    lookup.go_down()
    restarted = champion_of(lookup, pointer).start()
    try:
        with pytest.raises(ModelUnavailable):
            restarted.serving()
    finally:
        restarted.close()


def test_requests_during_swaps_all_get_an_answer(settings, versions, pointer):
    """The champion moves back and forth while a thread predicts without pause."""
    promote(settings, versions[0])
    champion = champion_of(settings, pointer)
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
        for version in (versions[1], versions[0], versions[1], versions[0]):
            promote(settings, version)
            champion.refresh()
            time.sleep(0.1)
    finally:
        stop.set()
        asking.join()
    assert failures == [] and answered == set(versions)


@pytest.mark.servers  # imports serving in a process of its own
def test_serving_needs_neither_torch_nor_scikit_learn_nor_the_onnx_tools():
    code = ("import sys, model.champion; "
            "print(sorted({'torch', 'sklearn', 'skl2onnx', 'onnx'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"

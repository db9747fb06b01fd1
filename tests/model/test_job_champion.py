"""How a running job follows the champion: the registry asked at most every MODEL_REFRESH_S, on a
thread of its own, the last champion kept while the registry is down, and every way of having
no model said in words, never raised."""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import replace
from pathlib import Path

from model.job_champion import (
    NO_CHAMPION,
    REGISTRY_UNAVAILABLE,
    ChampionWatch,
    ask_champion,
)
from model.registry import RegistryUnavailable, ServedModel
from settings import Settings

SETTINGS = replace(Settings(), model_refresh_s=0.3)


def served(version: str) -> ServedModel:
    return ServedModel("crop-classifier", version, f"run-{version}", Path(f"/{version}.onnx"),
                       {"dataset.snapshot": "v1"})


class Registry:
    """Answers in the registry's terms (a ServedModel, None, or RegistryUnavailable) and counts
    how often it is asked."""

    def __init__(self, answer):
        self.answer, self.asked, self.delay_s = answer, 0, 0.0

    def __call__(self, settings):
        self.asked += 1
        time.sleep(self.delay_s)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def eventually(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_the_first_state_waits_for_the_first_answer_and_later_ones_are_not_asked_again_at_once():
    registry = Registry(served("3"))
    watch = ChampionWatch(SETTINGS, registry)

    states = [watch.state() for _ in range(20)]

    assert {state.model.version for state in states} == {"3"}
    assert registry.asked == 1


def test_a_new_champion_is_seen_once_the_refresh_interval_has_passed():
    registry = Registry(served("3"))
    watch = ChampionWatch(SETTINGS, registry)
    watch.state()

    registry.answer = served("4")
    time.sleep(SETTINGS.model_refresh_s)

    assert eventually(lambda: watch.state().model.version == "4")


def test_a_registry_that_goes_down_leaves_the_job_its_last_champion_and_says_why():
    registry = Registry(served("3"))
    watch = ChampionWatch(SETTINGS, registry)
    watch.state()

    registry.answer = RegistryUnavailable("MLflow does not answer at http://127.0.0.1:5000")
    time.sleep(SETTINGS.model_refresh_s)

    assert eventually(lambda: not watch.state().registry_answered)
    state = watch.state()
    assert state.model.version == "3" and state.why_none is None
    assert state.problem == "MLflow does not answer at http://127.0.0.1:5000"


def test_a_slow_registry_never_holds_a_batch_once_there_was_an_answer():
    registry = Registry(served("3"))
    watch = ChampionWatch(SETTINGS, registry)
    watch.state()
    registry.delay_s, registry.answer = 2.0, served("4")
    time.sleep(2 * SETTINGS.model_refresh_s)  # the watch is asking now, slowly

    started = time.monotonic()
    states = [watch.state() for _ in range(5)]

    assert time.monotonic() - started < 0.1
    assert {state.model.version for state in states} == {"3"}
    assert eventually(lambda: watch.state().model.version == "4")


def test_the_registry_is_asked_while_no_batch_runs_so_the_next_batch_has_the_new_champion():
    registry = Registry(served("3"))
    watch = ChampionWatch(SETTINGS, registry)
    watch.state()

    registry.answer = served("4")
    assert eventually(lambda: registry.asked >= 2)  # without a call to state()
    time.sleep(0.05)

    assert watch.state().model.version == "4"


def test_a_watch_nobody_holds_any_more_stops_asking():
    registry = Registry(served("3"))
    watch = ChampionWatch(SETTINGS, registry)
    watch.state()

    del watch
    gc.collect()
    time.sleep(SETTINGS.model_refresh_s * 2)
    asked = registry.asked
    time.sleep(SETTINGS.model_refresh_s * 3)

    assert registry.asked == asked


def test_without_a_champion_or_a_registry_there_is_no_model_and_a_sentence_why():
    nobody = ask_champion(SETTINGS, Registry(None))
    down = ask_champion(SETTINGS, Registry(RegistryUnavailable("MLflow does not answer")))
    broken = ask_champion(SETTINGS, Registry(KeyError("aliases")))

    assert (nobody.model, nobody.why_none) == (None, NO_CHAMPION)
    assert "no champion of crop-classifier" in nobody.problem
    assert "python -m model promote" in nobody.problem
    assert (down.model, down.why_none, down.problem) == (None, REGISTRY_UNAVAILABLE,
                                                         "MLflow does not answer")
    assert (broken.model, broken.why_none) == (None, REGISTRY_UNAVAILABLE)


def test_a_first_answer_that_does_not_come_in_time_is_no_model_for_now():
    registry = Registry(served("3"))
    registry.delay_s = 1.0
    watch = ChampionWatch(SETTINGS, registry, first_answer_wait_s=0.1)

    first = watch.state()

    assert (first.model, first.why_none) == (None, REGISTRY_UNAVAILABLE)
    assert eventually(lambda: watch.state().model is not None)


def test_a_registry_outage_is_logged_once_when_it_starts_and_once_when_it_ends(caplog):
    registry = Registry(served("3"))
    watch = ChampionWatch(SETTINGS, registry)
    with caplog.at_level(logging.WARNING, "model.job_champion"):
        watch.refresh()
        registry.answer = RegistryUnavailable("MLflow does not answer")
        for _ in range(3):
            watch.refresh()
        registry.answer = served("3")
        watch.refresh()

    messages = [record.message for record in caplog.records
                if record.name == "model.job_champion"]
    assert messages[0] == ("the model registry does not answer (MLflow does not answer); "
                           "predicting with crop-classifier version 3")
    assert messages[1].startswith("the model registry answers again after ")
    assert len(messages) == 2

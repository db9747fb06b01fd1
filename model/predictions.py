"""The champion's answer on each photo a Spark task holds: the prediction fields of its record.

The driver resolves the model (model/champion.py) and ships its ONNX bytes to the tasks as a
broadcast variable, so an executor fetches a version once, on any cluster; the session is made
once per Python worker and model (model/runtime.py). A task predicts its photos' base tensors
BATCH at a time, one thread.

The model never stops a task: a batch it fails on is run again photo by photo, and a photo it
still fails on (or whose probabilities are not numbers) gets no prediction; so do all of them
when the model cannot even be loaded. Each is logged on the executor.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort

from dataset.image_record import PROCESSED
from model.runtime import BATCH, classes, inference_session, run_batched
from photo.upload import Outcome

PREDICTION_FIELDS = ("prediction", "prediction_confidence", "prediction_margin", "model_version")
NO_PREDICTION = dict.fromkeys(PREDICTION_FIELDS)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShippedModel:
    """A model version on its way to the tasks: `onnx` holds its bytes in `.value` (a Spark
    Broadcast), so the function that carries it pickles small."""

    version: str
    onnx: Any


class Predictor:
    """Runs one shipped model in a task; `predict` gives each tensor's prediction fields."""

    def __init__(self, model: ShippedModel):
        self.version = model.version
        try:
            self.session: ort.InferenceSession | None = inference_session(model.onnx.value)
            self.classes = classes(self.session)
        except Exception as error:  # a file ONNX Runtime cannot load, or no classes in it
            log.error("model version %s cannot be loaded, so its photos get no prediction: %r",
                      self.version, error)
            self.session, self.classes = None, []

    def predict(self, tensors: Sequence[np.ndarray]) -> list[dict]:
        """The prediction fields of each uint8 224x224x3 tensor, in order (NO_PREDICTION for a
        photo the model failed on); one run for up to BATCH tensors."""
        if self.session is None or not tensors:
            return [NO_PREDICTION] * len(tensors)
        try:
            answers = list(run_batched(self.session, tensors))
        except Exception as error:
            log.warning("model version %s failed on a batch of %d photos, so they are run one "
                        "by one: %r", self.version, len(tensors), error)
            answers = [self._alone(tensor) for tensor in tensors]
        return [self._fields(answer) for answer in answers]

    def _alone(self, tensor: np.ndarray) -> np.ndarray | None:
        try:
            return next(run_batched(self.session, [tensor], batch=1))
        except Exception as error:
            log.warning("model version %s failed on a photo, which gets no prediction: %r",
                        self.version, error)
            return None

    def _fields(self, probabilities: np.ndarray | None) -> dict:
        if (probabilities is None or probabilities.shape != (len(self.classes),)
                or not np.isfinite(probabilities).all()):
            return NO_PREDICTION
        best = int(np.argmax(probabilities))
        return {"prediction": self.classes[best],
                "prediction_confidence": float(probabilities[best]),
                "prediction_margin": margin(probabilities),
                "model_version": self.version}


def margin(probabilities: np.ndarray) -> float:
    """The best class's probability less the second best's (the best's own with one class):
    near 0 when the model hesitates between two crops."""
    top = np.sort(probabilities)[::-1]
    return float(top[0] - (top[1] if len(top) > 1 else 0.0))


class OutcomePredictions:
    """Predicts the processed outcomes flowing to the dataset writer, BATCH at a time, and
    keeps each answer for its manifest row (`fields_of`)."""

    def __init__(self, model: ShippedModel | None):
        self.predictor = None if model is None else Predictor(model)
        self.found: dict[str, dict] = {}

    def through(self, outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
        """The outcomes, unchanged and in order, held back BATCH processed ones at a time."""
        if self.predictor is None:
            yield from outcomes
            return
        held: list[Outcome] = []
        for outcome in outcomes:
            held.append(outcome)
            if outcome.ok and sum(held_one.ok for held_one in held) == BATCH:
                yield from self._predicted(held)
                held = []
        yield from self._predicted(held)

    def _predicted(self, outcomes: list[Outcome]) -> list[Outcome]:
        ok = [outcome for outcome in outcomes if outcome.ok]
        answers = self.predictor.predict([outcome.processed.base for outcome in ok])
        self.found.update(zip([outcome.image_id for outcome in ok], answers, strict=True))
        return outcomes

    def fields_of(self, row: dict) -> dict:
        """The prediction fields of a manifest row: its photo's answer when it was processed."""
        if row["status"] != PROCESSED:  # rejected, or refused by the store after predicting
            return NO_PREDICTION
        return self.found.get(row["image_id"], NO_PREDICTION)

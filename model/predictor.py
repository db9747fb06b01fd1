"""One model version ready to answer in a long-running server: its ONNX file in an ONNX Runtime
session, run on one photo at a time.

The session has model/runtime.py's single intra-op thread, and a bounded memory: no CPU memory
arena (it grows with every input shape and never shrinks) and one input shape, a batch of one.
A process runs one photo at a time per model (a lock), so a worker holds one photo's activations
at most, as the decode budget holds its decodes. ONNX Runtime alone: no torch, no scikit-learn.

onnxruntime is imported when a session is made, not with this module: gunicorn's master imports
the API before it forks its workers, and onnxruntime's threads do not survive a fork (a worker
then hangs or aborts when it exits; onnxruntime PR #31961).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnxruntime as ort

TOP = 3


@dataclass(frozen=True)
class Prediction:
    """What a model says of one tensor: its best crop, and the TOP best with their probability."""

    crop: str
    confidence: float
    top: tuple[tuple[str, float], ...]
    tensor_sha256: str  # of the exact bytes the model was fed


def serving_options() -> ort.SessionOptions:
    from model.runtime import session_options

    options = session_options()
    options.enable_cpu_mem_arena = False
    return options


class Predictor:
    """A session on one ONNX classifier; thread-safe, one run at a time."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        from model.runtime import classes

        self.session = ort.InferenceSession(str(path), serving_options(),
                                            providers=["CPUExecutionProvider"])
        self.classes: list[str] = classes(self.session)
        self.input = self.session.get_inputs()[0].name
        self._lock = threading.Lock()

    def predict(self, tensor: np.ndarray) -> Prediction:
        """The model's answer for one uint8 224x224x3 tensor, as the dataset stores it."""
        batch = np.ascontiguousarray(tensor)[np.newaxis]
        with self._lock:
            probabilities = self.session.run(None, {self.input: batch})[0][0]
        best = np.argsort(-probabilities, kind="stable")[:TOP]
        top = tuple((self.classes[i], float(probabilities[i])) for i in best)
        return Prediction(crop=top[0][0], confidence=top[0][1], top=top,
                          tensor_sha256=hashlib.sha256(batch.tobytes()).hexdigest())

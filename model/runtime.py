"""How the project runs an ONNX model: ONNX Runtime on the CPU, one thread, in fixed batches.

One intra-op thread per process (a Spark task, later a gunicorn worker): the cluster, not
ONNX Runtime, decides how many cores work, and recent versions would otherwise take every core
whatever OMP_NUM_THREADS says. The CPU memory arena grows with each new input shape and never
shrinks, so `batches` pads the last batch to the same shape as the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

import numpy as np
import onnxruntime as ort

BATCH = 16  # images per run: ~88 images/s for the backbone on one core (docs/model.md)
# The model's metadata property that lists its classes, in the order of its probabilities
# (model/classifier.py writes it).
CLASSES_KEY = "classes"

_sessions: dict[str, ort.InferenceSession] = {}


def session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return options


def inference_session(model: bytes) -> ort.InferenceSession:
    """A session on the model, made once per process and model (Spark reuses its Python
    workers, so a task does not load the model again)."""
    key = hashlib.sha256(model).hexdigest()
    if key not in _sessions:
        _sessions[key] = ort.InferenceSession(model, session_options(),
                                              providers=["CPUExecutionProvider"])
    return _sessions[key]


def classes(session: ort.InferenceSession) -> list[str]:
    """The class names of a classifier's session, in the order of its probabilities."""
    return json.loads(session.get_modelmeta().custom_metadata_map[CLASSES_KEY])


def run_batched(
    session: ort.InferenceSession, tensors: Iterable[np.ndarray], batch: int = BATCH
) -> Iterator[np.ndarray]:
    """The model's first output for each tensor, in order, run `batch` tensors at a time."""
    name = session.get_inputs()[0].name
    pending: list[np.ndarray] = []
    for tensor in tensors:
        pending.append(tensor)
        if len(pending) == batch:
            yield from session.run(None, {name: np.stack(pending)})[0]
            pending = []
    if pending:
        padded = np.zeros((batch, *pending[0].shape), pending[0].dtype)
        padded[: len(pending)] = pending
        yield from session.run(None, {name: padded})[0][: len(pending)]

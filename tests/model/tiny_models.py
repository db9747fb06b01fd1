"""Small ONNX classifiers with the served model's interface (uint8 [N, 224, 224, 3] "image" in,
float32 [N, classes] "probabilities" out, the classes in the metadata), for tests that need a
model's answers and not its accuracy: milliseconds per batch instead of EfficientNet's, and no
training run. `register_tiny` registers one in the real MLflow as training would, and
`make_champion` gives it the alias."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper, numpy_helper

from model.registry import CHAMPION, ServedModel, connect, register
from model.runtime import CLASSES_KEY
from model.train import SYNTHETIC, TrainedModel
from settings import Settings

CROPS = ("cassava", "coffee", "maize", "wheat")  # img/'s folders


def colour_classifier(crops=CROPS, seed: int = 0, fails_on_bright_corner: bool = False) -> bytes:
    """softmax(mean colour @ W + b) with W and b drawn from `seed`: another seed, another model.

    With fails_on_bright_corner, ONNX Runtime raises on any batch holding a photo whose top-left
    red value is 192 or more (a Gather out of bounds), as a model that breaks on one photo.
    """
    rng = np.random.default_rng(seed)
    weights = rng.normal(0, 8, (3, len(crops))).astype(np.float32)
    bias = rng.normal(0, 1, len(crops)).astype(np.float32)
    nodes = [
        helper.make_node("Cast", ["image"], ["pixels"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["pixels"], ["colour"], axes=[1, 2], keepdims=0),
        helper.make_node("Mul", ["colour", "scale"], ["unit"]),
        helper.make_node("MatMul", ["unit", "weights"], ["product"]),
        helper.make_node("Add", ["product", "bias"], ["logits"]),
    ]
    constants = [numpy_helper.from_array(np.array(1 / 255, np.float32), "scale"),
                 numpy_helper.from_array(weights, "weights"),
                 numpy_helper.from_array(bias, "bias")]
    if fails_on_bright_corner:
        nodes += [
            helper.make_node("Slice", ["pixels", "start", "end", "axes"], ["corner"]),
            helper.make_node("Reshape", ["corner", "flat"], ["red"]),
            helper.make_node("Div", ["red", "quarter"], ["quarters"]),
            helper.make_node("Floor", ["quarters"], ["floored"]),
            helper.make_node("Cast", ["floored"], ["index"], to=TensorProto.INT64),
            helper.make_node("Gather", ["zeros", "index"], ["nothing"], axis=0),
            helper.make_node("Add", ["logits", "nothing"], ["checked"]),
            helper.make_node("Softmax", ["checked"], ["probabilities"], axis=1),
        ]
        constants += [
            numpy_helper.from_array(np.zeros(4, np.int64), "start"),
            numpy_helper.from_array(np.array([2**62, 1, 1, 1], np.int64), "end"),
            numpy_helper.from_array(np.arange(4, dtype=np.int64), "axes"),
            numpy_helper.from_array(np.array([-1], np.int64), "flat"),
            numpy_helper.from_array(np.array(64, np.float32), "quarter"),
            numpy_helper.from_array(np.zeros((3, len(crops)), np.float32), "zeros"),
        ]
    else:
        nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes, "tiny_crop_classifier",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["N", 224, 224, 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(crops)])],
        constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {CLASSES_KEY: json.dumps(list(crops))})
    onnx.checker.check_model(model)
    return model.SerializeToString()


def served_model(folder: Path, version: str, onnx: bytes) -> ServedModel:
    """A registry's answer for a model file written under `folder`, as champion() gives it."""
    path = folder / version / "model.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onnx)
    return ServedModel("crop-classifier", version, f"run-of-{version}", path,
                       {"dataset.snapshot": "v1", "dataset.delta_version": "0"})


def tiny_trained(onnx_model: bytes, crops=CROPS, snapshot: str = "tiny-v1",
                 delta_version: int = 4, drift_reference: dict | None = None) -> TrainedModel:
    """A TrainedModel of a small classifier, with a report as full as training writes, and the
    drift reference given (none by default, as a version registered before references)."""
    report = {
        "model": {"sha256": hashlib.sha256(onnx_model).hexdigest(), "file": "model.onnx",
                  "backbone": "mean colour (a test model)", "classes": list(crops),
                  "input": "image: uint8 [N, 224, 224, 3]",
                  "output": "probabilities: float32 [N, classes]"},
        "params": {"dataset.root": "s3://tests/dataset", "dataset.snapshot": snapshot,
                   "dataset.delta_version": delta_version, "dataset.rows": 0,
                   "dataset.ids_sha256": hashlib.sha256(b"").hexdigest(),
                   "head": "fixed weights", "head.C": 1.0, "seed": 0},
        "pictures": "synthetic", "measured_on": SYNTHETIC,
        "data": {"photos": {}, "samples": {}, "variants": {}},
        "bucket_thresholds": {"blurred_below": 0.0, "dark_below": 0.0, "bright_above": 1.0,
                              "clipped_above": 0.1},
        "metrics": {"val": {"n": 0, "buckets": {}}, "test": {"n": 0, "buckets": {}}},
        "timings": {"total_s": 0.0},
    }
    return TrainedModel(onnx_model, report, pd.DataFrame(), np.zeros((0, 1280), np.float32),
                        drift_reference=drift_reference)


def register_tiny(settings: Settings, onnx_model: bytes, **lineage) -> str:
    """Register a small classifier in the settings' MLflow as a new version; its number."""
    return register(settings, tiny_trained(onnx_model, **lineage))


def make_champion(settings: Settings, version: str) -> None:
    """Give `version` the alias champion, as a promotion does."""
    connect(settings).set_registered_model_alias(settings.model_name, CHAMPION, version)

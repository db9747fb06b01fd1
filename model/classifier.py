"""The served model: one ONNX graph from the dataset's uint8 tensor to class probabilities.

The backbone's graph (model/backbone.py) and the head converted by skl2onnx are joined with
onnx.compose: the backbone's "features" output feeds the head's input. The classes, in the
order of the probabilities, and the lineage go into the model's metadata, so the file alone
says what it answers and what it was trained on. The API, the stream and the batch job can
all run this one file with ONNX Runtime.
"""

from __future__ import annotations

import json

import onnx
from onnx import compose, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from model.backbone import FEATURES, OPSET, OUTPUT
from model.predictor import CLASSES_KEY

PROBABILITIES = "probabilities"
HEAD_PREFIX = "head/"
GRAPH_NAME = "crop_classifier"


def head_onnx(head: Pipeline) -> onnx.ModelProto:
    """The head alone: features in, probabilities (no ZipMap: a plain float tensor) out."""
    return convert_sklearn(
        head, initial_types=[(OUTPUT, FloatTensorType([None, FEATURES]))],
        options={LogisticRegression: {"zipmap": False}},
        target_opset={"": OPSET, "ai.onnx.ml": 3},
    )


def classifier_onnx(backbone: bytes, head: Pipeline, metadata: dict[str, str]) -> bytes:
    """backbone + head as one model, with the classes and `metadata` in its properties."""
    first = onnx.load_from_string(backbone)
    second = compose.add_prefix(head_onnx(head), HEAD_PREFIX)
    second.ir_version = first.ir_version
    merged = compose.merge_models(
        first, second, io_map=[(OUTPUT, HEAD_PREFIX + OUTPUT)],
        outputs=[HEAD_PREFIX + PROBABILITIES],
    )
    merged.graph.node.append(helper.make_node("Identity", [HEAD_PREFIX + PROBABILITIES],
                                              [PROBABILITIES]))
    merged.graph.output[0].name = PROBABILITIES
    # Not the names skl2onnx makes from a uuid: the same backbone and head give the same bytes.
    merged.graph.name, merged.graph.doc_string = GRAPH_NAME, "uint8 image -> class probabilities"
    classes = [str(name) for name in head.classes_]
    helper.set_model_props(merged, {CLASSES_KEY: json.dumps(classes), **metadata})
    onnx.checker.check_model(merged)
    return merged.SerializeToString()


def classes_of(model: onnx.ModelProto) -> list[str]:
    """The class names, in the order of the model's probabilities."""
    props = {prop.key: prop.value for prop in model.metadata_props}
    return json.loads(props[CLASSES_KEY])

"""The exported backbone takes the dataset's uint8 tensor, normalises it inside the graph, and
gives what PyTorch gives."""

from __future__ import annotations

import functools

import numpy as np
import onnx
import pytest
import torch

from model.backbone import FEATURES, INPUT, OUTPUT, pretrained
from model.runtime import inference_session
from photo.upload import Upload, process_upload
from settings import PROJECT_ROOT


@functools.cache
def base_tensors() -> np.ndarray:
    """The base tensors of img/'s maize photos, made by the core that writes the dataset."""
    tensors = []
    for path in sorted((PROJECT_ROOT / "img" / "maize").glob("*.jpg"))[:4]:
        outcome = process_upload(Upload(path.read_bytes(), str(path), "maize"), n_variants=0,
                                 max_pixels=10**8)
        tensors.append(outcome.processed.base)
    return np.stack(tensors)


@pytest.fixture(scope="module")
def exported(backbone_onnx) -> bytes:
    return backbone_onnx


def test_its_input_is_the_shards_uint8_tensor_and_its_output_the_pooled_features(exported):
    session = inference_session(exported)
    (given,), (answer,) = session.get_inputs(), session.get_outputs()
    assert (given.name, given.type, given.shape[1:]) == (INPUT, "tensor(uint8)", [224, 224, 3])
    assert (answer.name, answer.shape[1:]) == (OUTPUT, [FEATURES])
    assert base_tensors().dtype == np.uint8 and base_tensors().shape[1:] == (224, 224, 3)


def test_onnx_runtime_gives_what_pytorch_gives(exported):
    tensors = base_tensors()
    (features,) = inference_session(exported).run(None, {INPUT: tensors})
    with torch.no_grad():
        expected = pretrained()(torch.from_numpy(tensors)).numpy()
    assert features.shape == (len(tensors), FEATURES)
    np.testing.assert_allclose(features, expected, atol=1e-4)
    assert features.std() > 0.1  # not a constant graph


def test_the_normalisation_is_inside_the_graph(exported):
    graph = onnx.load_from_string(exported).graph
    operations = [node.op_type for node in graph.node[:6]]
    assert {"Transpose", "Cast", "Sub", "Div"} <= set(operations)


def test_the_same_tensor_gives_the_same_features_alone_or_in_a_batch(exported):
    session, tensors = inference_session(exported), base_tensors()
    (together,) = session.run(None, {INPUT: tensors})
    (alone,) = session.run(None, {INPUT: tensors[:1]})
    np.testing.assert_allclose(alone[0], together[0], atol=1e-5)

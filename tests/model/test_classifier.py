"""The served model: the backbone and the head in one ONNX graph, uint8 tensor in, the head's
probabilities out, its classes in its metadata."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from model.backbone import INPUT, export_onnx
from model.classifier import CLASSES_KEY, PROBABILITIES, classes_of, classifier_onnx
from model.head import fit_head
from model.runtime import inference_session

CROPS = np.array(["cassava", "coffee", "maize", "wheat"])


@pytest.fixture(scope="module")
def parts(backbone_onnx):
    """(backbone, a head fitted on its features of random pictures, the pictures)."""
    rng = np.random.default_rng(5)
    pictures = rng.integers(0, 256, (12, 224, 224, 3), dtype=np.uint8)
    (features,) = inference_session(backbone_onnx).run(None, {INPUT: pictures})
    return backbone_onnx, fit_head(features, np.resize(CROPS, 12), seed=0), pictures, features


def test_it_answers_what_the_head_answers_on_the_backbones_features(parts):
    backbone, head, pictures, features = parts
    session = inference_session(classifier_onnx(backbone, head, {}))
    (probabilities,) = session.run(None, {INPUT: pictures})
    assert [output.name for output in session.get_outputs()] == [PROBABILITIES]
    np.testing.assert_allclose(probabilities, head.predict_proba(features), atol=1e-4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_its_metadata_holds_the_classes_in_column_order_and_the_given_facts(parts):
    backbone, head, _, _ = parts
    model = onnx.load_from_string(classifier_onnx(backbone, head, {"dataset.snapshot": "v1"}))
    assert classes_of(model) == list(CROPS) == list(head.classes_)
    props = {prop.key: prop.value for prop in model.metadata_props}
    assert props["dataset.snapshot"] == "v1" and json.loads(props[CLASSES_KEY]) == list(CROPS)


def test_two_crops_give_two_probabilities(parts):
    backbone, _, pictures, features = parts
    head = fit_head(features, np.resize(CROPS[:2], 12), seed=0)
    (probabilities,) = inference_session(classifier_onnx(backbone, head, {})).run(
        None, {INPUT: pictures})
    assert probabilities.shape == (12, 2)
    np.testing.assert_allclose(probabilities, head.predict_proba(features), atol=1e-4)


def test_the_same_backbone_and_head_give_the_same_bytes(parts):
    backbone, head, _, _ = parts
    again = export_onnx()
    assert again == backbone
    assert classifier_onnx(backbone, head, {"seed": "0"}) == classifier_onnx(again, head,
                                                                              {"seed": "0"})

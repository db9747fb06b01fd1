"""A model ready to answer in a server: one photo at a time, its three best crops, the same
probabilities as the batch scoring path, and a session of bounded memory."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest

from dataset import DatasetReader
from model.predictor import TOP, Predictor, serving_options
from model.runtime import inference_session, run_batched


@pytest.fixture(scope="module")
def predictor(trained, tmp_path_factory) -> Predictor:
    path = tmp_path_factory.mktemp("served") / "model.onnx"
    path.write_bytes(trained.onnx)
    return Predictor(path)


@pytest.fixture(scope="module")
def base_tensors(dataset) -> list[np.ndarray]:
    """Six base tensors of the snapshot, as the shards hold them."""
    _, store = dataset
    samples = DatasetReader(store).samples(variants=("base",), split_by_worker=False)
    return [tensor for tensor, _, _ in itertools.islice(samples, 6)]


def test_it_answers_the_best_crops_best_first_from_the_models_own_classes(predictor, trained,
                                                                          base_tensors):
    assert predictor.classes == trained.report["model"]["classes"]
    for tensor in base_tensors:
        answer = predictor.predict(tensor)
        crops, probabilities = zip(*answer.top, strict=True)
        assert len(answer.top) == TOP and len(set(crops)) == TOP
        assert set(crops) <= set(predictor.classes)
        assert list(probabilities) == sorted(probabilities, reverse=True)
        assert (answer.crop, answer.confidence) == answer.top[0]
        assert 0 < sum(probabilities) <= 1 + 1e-6


def test_it_says_which_bytes_it_was_fed(predictor, base_tensors):
    answer = predictor.predict(base_tensors[0])
    assert answer.tensor_sha256 == hashlib.sha256(base_tensors[0].tobytes()).hexdigest()


def test_one_photo_at_a_time_gives_the_probabilities_of_the_batched_scoring(predictor, trained,
                                                                             base_tensors):
    batched = list(run_batched(inference_session(trained.onnx), base_tensors))
    for tensor, probabilities in zip(base_tensors, batched, strict=True):
        answer = predictor.predict(tensor)
        best = np.argsort(-probabilities, kind="stable")[:TOP]
        assert [crop for crop, _ in answer.top] == [predictor.classes[i] for i in best]
        np.testing.assert_allclose([p for _, p in answer.top], probabilities[best], rtol=1e-5)


def test_one_thread_and_no_growing_memory_arena():
    options = serving_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert options.enable_cpu_mem_arena is False

"""ONNX Runtime as the project runs it: one thread, fixed batches, answers in order."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from model.runtime import inference_session, run_batched, session_options
from settings import PROJECT_ROOT


def doubling_model() -> bytes:
    """y = 2x for x float32 [N, 3]."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"])], "double",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


def test_every_tensor_gets_its_own_answer_in_order_across_batches_and_a_padded_last_one():
    tensors = [np.full(3, i, np.float32) for i in range(10)]
    answers = list(run_batched(inference_session(doubling_model()), tensors, batch=4))
    assert len(answers) == 10
    np.testing.assert_array_equal(np.stack(answers), 2 * np.stack(tensors))


def test_one_thread_per_process_and_one_session_per_model():
    options = session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert inference_session(doubling_model()) is inference_session(doubling_model())


@pytest.mark.servers  # imports the runtime in a process of its own
def test_running_a_model_needs_neither_torch_nor_scikit_learn():
    code = ("import sys, model.runtime; "
            "print(sorted({'torch', 'sklearn', 'skl2onnx', 'onnx'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"

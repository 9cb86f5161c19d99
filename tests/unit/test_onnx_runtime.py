"""The ONNX runtime over tiny graphs built in the test: conversions, micro-batching, per-item failures."""

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from shared.registry.models import TensorSpec
from shared.runtimes.base import ModelFailure, Unfinished, timed_out
from shared.runtimes.onnx import OnnxRuntime, UnsupportedModelError, describe
from tests.support.onnx_models import input_loop_model

W = np.array([[1.0, -2.0], [0.5, 0.25], [-3.0, 4.0]], dtype=np.float32)
B = np.array([0.1, -0.2], dtype=np.float32)


def _save(tmp_path: Path, name: str, graph: onnx.GraphProto, *, ml: bool = False) -> Path:
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("ai.onnx.ml", 1)] if ml else [])
    model = helper.make_model(graph, opset_imports=opsets, ir_version=8)
    onnx.checker.check_model(model)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path


def _float(name: str, shape: list[Any] | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


@pytest.fixture
def linear(tmp_path: Path) -> Path:
    """``y = x @ W + b``: x float [N, 3] -> y float [N, 2]."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "linear",
        [_float("x", [None, 3])],
        [_float("y", [None, 2])],
        initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "b")],
    )
    return _save(tmp_path, "linear", graph)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Strings, integers and booleans: text -> text_out; count -> doubled, positive."""
    graph = helper.make_graph(
        [
            helper.make_node("Identity", ["text"], ["text_out"]),
            helper.make_node("Mul", ["count", "two"], ["doubled"]),
            helper.make_node("Greater", ["count", "zero"], ["positive"]),
        ],
        "mixed",
        [
            helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"]),
            helper.make_tensor_value_info("count", TensorProto.INT64, ["batch", 2]),
        ],
        [
            helper.make_tensor_value_info("text_out", TensorProto.STRING, ["batch"]),
            helper.make_tensor_value_info("doubled", TensorProto.INT64, ["batch", 2]),
            helper.make_tensor_value_info("positive", TensorProto.BOOL, ["batch", 2]),
        ],
        initializer=[
            numpy_helper.from_array(np.array(2, dtype=np.int64), "two"),
            numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        ],
    )
    return _save(tmp_path, "mixed", graph)


@pytest.fixture
def fixed_one(tmp_path: Path) -> Path:
    """x float [1, 3] -> y = 2x."""
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"])],
        "fixed_one",
        [_float("x", [1, 3])],
        [_float("y", [1, 3])],
        initializer=[numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")],
    )
    return _save(tmp_path, "fixed_one", graph)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """x float [N] -> log(x): one scalar per example, non-finite for x <= 0."""
    graph = helper.make_graph(
        [helper.make_node("Log", ["x"], ["y"])], "log", [_float("x", [None])], [_float("y", [None])]
    )
    return _save(tmp_path, "log", graph)


@pytest.fixture
def lookup(tmp_path: Path) -> Path:
    """index int64 [N] -> row of a 5x2 table; an index out of range fails the whole run."""
    table = np.arange(10, dtype=np.float32).reshape(5, 2)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "index"], ["row"])],
        "lookup",
        [helper.make_tensor_value_info("index", TensorProto.INT64, [None])],
        [_float("row", [None, 2])],
        initializer=[numpy_helper.from_array(table, "table")],
    )
    return _save(tmp_path, "lookup", graph)


@pytest.fixture
def run_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The batch size of every ``session.run`` call."""
    sizes: list[int] = []
    original = ort.InferenceSession.run

    def counting(self: Any, output_names: Any, input_feed: Mapping[str, Any], run_options: Any = None) -> Any:
        sizes.append(len(next(iter(input_feed.values()))))
        return original(self, output_names, input_feed, run_options)

    monkeypatch.setattr(ort.InferenceSession, "run", counting)
    return sizes


def _rows(results: list[Any], name: str) -> np.ndarray[Any, Any]:
    assert all(isinstance(result, dict) for result in results)
    return np.array([result[name] for result in results])


def test_linear_outputs_match_numpy(linear: Path) -> None:
    x = np.random.default_rng(7).normal(size=(6, 3)).astype(np.float32)

    results = OnnxRuntime(linear).predict([{"x": row.tolist()} for row in x])

    np.testing.assert_allclose(_rows(results, "y"), x @ W + B, rtol=1e-6, atol=1e-6)
    assert all(isinstance(result, dict) and all(type(value) is float for value in result["y"]) for result in results)


def test_ints_for_a_float_input_and_extra_keys_are_fine(linear: Path) -> None:
    [result] = OnnxRuntime(linear).predict([{"x": [1, 2, 3], "comment": "ignored"}])

    assert isinstance(result, dict)
    assert set(result) == {"y"}
    np.testing.assert_allclose(result["y"], np.array([1, 2, 3], dtype=np.float32) @ W + B, rtol=1e-6)


def test_micro_batch_equals_one_by_one_in_a_single_run(linear: Path, run_sizes: list[int]) -> None:
    runtime = OnnxRuntime(linear)
    examples = [{"x": row.tolist()} for row in np.random.default_rng(3).normal(size=(9, 3))]

    batched = runtime.predict(examples)
    assert run_sizes == [9]

    one_by_one = [result for example in examples for result in runtime.predict([example])]
    assert batched == one_by_one
    assert run_sizes == [9] + [2] * 9  # a lone example runs as two identical rows (same kernels as a batch)


def test_a_fixed_batch_of_one_runs_each_example_alone(fixed_one: Path, run_sizes: list[int]) -> None:
    results = OnnxRuntime(fixed_one).predict([{"x": [1, 2, 3]}, {"x": [4, 5, 6]}, {"x": [0, 0, 1]}])

    assert run_sizes == [1, 1, 1]
    assert results == [{"y": [2.0, 4.0, 6.0]}, {"y": [8.0, 10.0, 12.0]}, {"y": [0.0, 0.0, 2.0]}]


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ({"x": [1.0, 2.0]}, "shape [3]"),
        ({"x": [[1.0, 2.0, 3.0]]}, "shape [3]"),
        ({"z": [1.0, 2.0, 3.0]}, "is missing"),
        ({"x": [1.0, "two", 3.0]}, "numbers"),
        ({"x": ["1", "2", "3"]}, "numbers"),
        ({"x": [1.0, None, 3.0]}, "numbers"),
        ({"x": [True, False, True]}, "numbers"),
        ({"x": [[1.0], [2.0, 3.0], 4.0]}, "rectangular"),
        ({"x": [1e300, 0.0, 0.0]}, "finite"),
    ],
)
def test_a_bad_item_fails_only_itself(linear: Path, run_sizes: list[int], bad: dict[str, Any], fragment: str) -> None:
    good = [{"x": [1.0, 2.0, 3.0]}, {"x": [0.0, -1.0, 0.5]}]

    results = OnnxRuntime(linear).predict([good[0], bad, good[1]])

    failure = results[1]
    assert isinstance(failure, ModelFailure)
    assert failure.code == "invalid_input"
    assert fragment in failure.message
    assert "'x'" in failure.message
    assert "two" not in failure.message
    assert results[0] == OnnxRuntime(linear).predict([good[0]])[0]
    assert results[2] == OnnxRuntime(linear).predict([good[1]])[0]
    assert run_sizes[0] == 2


def test_an_item_that_is_not_an_object_fails_only_itself(linear: Path) -> None:
    results = OnnxRuntime(linear).predict([[1.0, 2.0, 3.0], {"x": [1.0, 2.0, 3.0]}])  # type: ignore[list-item]

    assert results[0] == ModelFailure("invalid_input", "Each input must be a JSON object.")
    assert isinstance(results[1], dict)


def test_strings_integers_and_booleans(mixed: Path, run_sizes: list[int]) -> None:
    results = OnnxRuntime(mixed).predict(
        [{"text": "héllo", "count": [1, -2]}, {"text": "", "count": [0, 3.0]}, {"text": "z", "count": [5, 6]}]
    )

    assert results == [
        {"text_out": "héllo", "doubled": [2, -4], "positive": [True, False]},
        {"text_out": "", "doubled": [0, 6], "positive": [False, True]},
        {"text_out": "z", "doubled": [10, 12], "positive": [True, True]},
    ]
    assert run_sizes == [3]
    first = results[0]
    assert isinstance(first, dict)
    assert type(first["doubled"][0]) is int
    assert type(first["positive"][0]) is bool


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ({"text": 5, "count": [1, 2]}, "'text' must hold only strings"),
        ({"text": ["a"], "count": [1, 2]}, "'text' must have shape []"),
        ({"text": "a", "count": [1.5, 2]}, "'count' must hold only integers"),
        ({"text": "a", "count": [2**63, 2]}, "'count'"),
        ({"text": "a", "count": ["1", 2]}, "'count' must hold only integers"),
    ],
)
def test_bad_strings_and_integers_fail_only_themselves(mixed: Path, bad: dict[str, Any], fragment: str) -> None:
    results = OnnxRuntime(mixed).predict([bad, {"text": "ok", "count": [1, 1]}])

    assert isinstance(results[0], ModelFailure)
    assert results[0].code == "invalid_input"
    assert fragment in results[0].message
    assert results[1] == {"text_out": "ok", "doubled": [2, 2], "positive": [True, True]}


def test_examples_with_different_row_shapes_run_in_separate_groups(tmp_path: Path, run_sizes: list[int]) -> None:
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["x", "axes"], ["total"], keepdims=0)],
        "sum_rows",
        [_float("x", [None, "length"])],
        [_float("total", [None])],
        initializer=[numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")],
    )
    runtime = OnnxRuntime(_save(tmp_path, "sum_rows", graph))

    results = runtime.predict([{"x": [1, 2]}, {"x": [1, 2, 3]}, {"x": [5, 5]}, {"x": []}])

    assert results == [{"total": 3.0}, {"total": 6.0}, {"total": 10.0}, {"total": 0.0}]
    assert sorted(run_sizes) == [2, 2, 2]  # the two lone examples each run as two identical rows
    assert runtime.inputs == (TensorSpec("x", "FP32", (-1, -1)),)


def test_non_finite_output_fails_only_that_item(log: Path, run_sizes: list[int]) -> None:
    results = OnnxRuntime(log).predict([{"x": math.e}, {"x": 0}, {"x": -1.0}, {"x": 1}])

    assert run_sizes == [4]
    assert isinstance(results[0], dict)
    assert results[0]["y"] == pytest.approx(1.0, rel=1e-6)
    assert results[1] == ModelFailure("model_error", "The model produced a non-finite number.")
    assert results[2] == ModelFailure("model_error", "The model produced a non-finite number.")
    assert results[3] == {"y": 0.0}


def test_a_failing_batch_falls_back_to_one_by_one(lookup: Path, run_sizes: list[int]) -> None:
    results = OnnxRuntime(lookup).predict([{"index": 1}, {"index": 7}, {"index": 4}])

    assert results == [
        {"row": [2.0, 3.0]},
        ModelFailure("model_error", "The model failed on this input."),
        {"row": [8.0, 9.0]},
    ]
    assert run_sizes == [3, 2, 2, 2]  # then one by one, each padded to two identical rows


def test_an_output_without_a_batch_dimension_is_computed_per_example(tmp_path: Path, run_sizes: list[int]) -> None:
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0)],
        "sum_all",
        [_float("x", [None, 2])],
        [_float("total", [])],
    )
    runtime = OnnxRuntime(_save(tmp_path, "sum_all", graph))

    assert runtime.predict([{"x": [1, 2]}, {"x": [3, 4]}]) == [{"total": 3.0}, {"total": 7.0}]
    assert run_sizes == [2, 2, 1, 2, 1]  # a padded lone example cannot be split: it runs alone
    assert runtime.outputs == (TensorSpec("total", "FP32", ()),)


def test_zipmap_output_is_one_dict_per_example(tmp_path: Path) -> None:
    scores = helper.make_tensor_type_proto(TensorProto.FLOAT, None)
    maps = helper.make_sequence_type_proto(helper.make_map_type_proto(TensorProto.INT64, scores))
    graph = helper.make_graph(
        [helper.make_node("ZipMap", ["scores"], ["classes"], domain="ai.onnx.ml", classlabels_int64s=[0, 7])],
        "zipmap",
        [_float("scores", [None, 2])],
        [helper.make_value_info("classes", maps)],
    )
    runtime = OnnxRuntime(_save(tmp_path, "zipmap", graph, ml=True))

    results = runtime.predict([{"scores": [0.25, 0.75]}, {"scores": [1, 0]}])

    assert results == [{"classes": {"0": 0.25, "7": 0.75}}, {"classes": {"0": 1.0, "7": 0.0}}]
    assert runtime.outputs == (TensorSpec("classes", "FP32", (-1, -1)),)


def test_results_keep_input_order_and_count(linear: Path) -> None:
    examples: list[dict[str, Any]] = [{"x": [float(i), 0.0, 0.0]} if i % 3 else {"x": [1.0]} for i in range(10)]

    results = OnnxRuntime(linear).predict(examples)

    assert len(results) == 10
    for i, result in enumerate(results):
        if i % 3:
            assert isinstance(result, dict)
            np.testing.assert_allclose(result["y"], np.array([i, 0, 0], dtype=np.float32) @ W + B, rtol=1e-6)
        else:
            assert isinstance(result, ModelFailure)
    assert OnnxRuntime(linear).predict([]) == []


def test_signatures(linear: Path, mixed: Path, fixed_one: Path, log: Path) -> None:
    assert OnnxRuntime(linear).signature() == ((TensorSpec("x", "FP32", (-1, 3)),), (TensorSpec("y", "FP32", (-1, 2)),))
    assert describe(mixed) == (
        (TensorSpec("text", "BYTES", (-1,)), TensorSpec("count", "INT64", (-1, 2))),
        (
            TensorSpec("text_out", "BYTES", (-1,)),
            TensorSpec("doubled", "INT64", (-1, 2)),
            TensorSpec("positive", "BOOL", (-1, 2)),
        ),
    )
    runtime = OnnxRuntime(fixed_one)
    assert runtime.inputs == (TensorSpec("x", "FP32", (1, 3)),)
    assert runtime.outputs == (TensorSpec("y", "FP32", (1, 3)),)
    assert describe(log) == ((TensorSpec("x", "FP32", (-1,)),), (TensorSpec("y", "FP32", (-1,)),))


@pytest.mark.parametrize(
    ("elem_type", "datatype", "value", "expected"),
    [
        (TensorProto.DOUBLE, "FP64", [0.1, 2], [0.1, 2.0]),
        (TensorProto.FLOAT16, "FP16", [0.5, 2], [0.5, 2.0]),
        (TensorProto.INT32, "INT32", [-5, 2.0], [-5, 2]),
        (TensorProto.INT8, "INT8", [-128, 127], [-128, 127]),
        (TensorProto.INT16, "INT16", [-3, 3], [-3, 3]),
        (TensorProto.UINT8, "UINT8", [0, 255], [0, 255]),
        (TensorProto.UINT16, "UINT16", [0, 65535], [0, 65535]),
        (TensorProto.UINT32, "UINT32", [1, 2], [1, 2]),
        (TensorProto.UINT64, "UINT64", [2**64 - 1, 2], [2**64 - 1, 2]),
        (TensorProto.INT64, "INT64", [2**63 - 1, -(2**63)], [2**63 - 1, -(2**63)]),
        (TensorProto.FLOAT, "FP32", [2**70, 1], [float(2**70), 1.0]),
        (TensorProto.BOOL, "BOOL", [True, False], [True, False]),
    ],
)
def test_every_datatype_round_trips(
    tmp_path: Path, elem_type: int, datatype: str, value: list[Any], expected: list[Any]
) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["v"], ["out"])],
        "identity",
        [helper.make_tensor_value_info("v", elem_type, [None, 2])],
        [helper.make_tensor_value_info("out", elem_type, [None, 2])],
    )
    runtime = OnnxRuntime(_save(tmp_path, "identity", graph))

    assert runtime.signature() == ((TensorSpec("v", datatype, (-1, 2)),), (TensorSpec("out", datatype, (-1, 2)),))
    assert runtime.predict([{"v": value}]) == [{"out": expected}]


@pytest.mark.parametrize(
    ("elem_type", "value", "fragment"),
    [
        (TensorProto.UINT8, [0, 256], "outside the range of UINT8"),
        (TensorProto.UINT8, [-1, 0], "outside the range of UINT8"),
        (TensorProto.INT8, [0, 1.5], "only integers"),
        (TensorProto.INT8, [0, 300.0], "outside the range of INT8"),
        (TensorProto.UINT64, [2**64, 0], "outside the range of UINT64"),
        (TensorProto.INT32, [0, float("inf")], "only integers"),
        (TensorProto.INT32, [0, {"a": 1}], "only integers"),
        (TensorProto.FLOAT, [2**200, 0], "finite numbers within the range of FP32"),
        (TensorProto.DOUBLE, [2**2000, 0], "finite numbers within the range of FP64"),
        (TensorProto.DOUBLE, [float("nan"), 0], "finite numbers within the range of FP64"),
        (TensorProto.FLOAT16, [70000.0, 0], "finite numbers within the range of FP16"),
        (TensorProto.BOOL, [1, 0], "only true/false values"),
        (TensorProto.BOOL, [[True], [False, True]], "rectangular nested list of true/false values"),
        (TensorProto.STRING, [["a"], ["b", "c"]], "only strings"),
    ],
)
def test_values_that_do_not_fit_the_datatype_are_invalid(
    tmp_path: Path, elem_type: int, value: list[Any], fragment: str
) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["v"], ["out"])],
        "identity",
        [helper.make_tensor_value_info("v", elem_type, [None, 2])],
        [helper.make_tensor_value_info("out", elem_type, [None, 2])],
    )

    [result] = OnnxRuntime(_save(tmp_path, "identity", graph)).predict([{"v": value}])

    assert isinstance(result, ModelFailure)
    assert result.code == "invalid_input"
    assert fragment in result.message


def test_a_fixed_batch_other_than_one_is_unsupported(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "four", [_float("x", [4, 3])], [_float("y", [4, 3])]
    )

    with pytest.raises(UnsupportedModelError, match="Input 'x' has a fixed batch dimension of 4"):
        OnnxRuntime(_save(tmp_path, "four", graph))


def test_a_scalar_input_is_unsupported(tmp_path: Path) -> None:
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "scalar", [_float("x", [])], [_float("y", [])])

    with pytest.raises(UnsupportedModelError, match="Input 'x' has no batch dimension"):
        describe(_save(tmp_path, "scalar", graph))


def test_a_sequence_input_is_unsupported(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("SequenceLength", ["items"], ["n"])],
        "sequence",
        [helper.make_tensor_sequence_value_info("items", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("n", TensorProto.INT64, [])],
    )

    with pytest.raises(UnsupportedModelError, match="Input 'items' has type seq"):
        OnnxRuntime(_save(tmp_path, "sequence", graph))


def test_a_sequence_output_is_unsupported(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("SplitToSequence", ["x"], ["parts"])],
        "split",
        [_float("x", [None, 2])],
        [helper.make_tensor_sequence_value_info("parts", TensorProto.FLOAT, None)],
    )

    with pytest.raises(UnsupportedModelError, match="Output 'parts' has type seq"):
        OnnxRuntime(_save(tmp_path, "split", graph))


def test_a_model_without_inputs_is_unsupported(tmp_path: Path) -> None:
    constant = numpy_helper.from_array(np.array([1.0], dtype=np.float32), "c")
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["y"], value=constant)], "constant", [], [_float("y", [1])]
    )

    with pytest.raises(UnsupportedModelError, match="no inputs"):
        OnnxRuntime(_save(tmp_path, "constant", graph))


def test_a_corrupt_file_is_unsupported_without_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(np.random.default_rng(0).bytes(512))

    with pytest.raises(UnsupportedModelError) as caught:
        OnnxRuntime(path)

    assert str(caught.value) == "The file is not an ONNX model this runtime can load."
    assert str(tmp_path) not in str(caught.value)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        OnnxRuntime(tmp_path / "absent.onnx")


def _spinning(tmp_path: Path) -> OnnxRuntime:
    path = tmp_path / "spin.onnx"
    path.write_bytes(input_loop_model())  # y = x + max(x), in max(x) trips of a Loop
    return OnnxRuntime(path)


def test_a_call_past_its_time_limit_is_stopped_and_the_session_still_serves(tmp_path: Path) -> None:
    runtime = _spinning(tmp_path)

    stopped = runtime.predict([{"x": [1e12]}], timeout=0.2)  # would spin for hours
    after = runtime.predict([{"x": [3.0]}], timeout=5)

    assert stopped == [timed_out(0.2)]
    assert stopped[0] == ModelFailure("timeout", "The model did not finish within its time limit of 0.2 s.")
    assert after == [{"y": [6.0]}]


def _spinning_any_length(tmp_path: Path) -> OnnxRuntime:
    path = tmp_path / "spin-any.onnx"
    model = onnx.load_from_string(input_loop_model())
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_param = "n"  # rows of any length: one group per length
    path.write_bytes(model.SerializeToString())
    return OnnxRuntime(path)


def test_the_time_limit_covers_the_whole_call_and_keeps_what_finished(tmp_path: Path) -> None:
    """Groups run in turn under one deadline: a finished group keeps its results; the slow one did not have
    the limit to itself (a group ran before it) and the last was never reached: both are unfinished."""
    runtime = _spinning_any_length(tmp_path)

    results = runtime.predict([{"x": [2.0]}, {"x": [1e12, 1.0]}, {"x": [1.0, 1.0, 1.0]}], timeout=0.2)

    assert results == [{"y": [4.0]}, Unfinished(0.2), Unfinished(0.2)]


def test_inputs_stopped_together_are_unfinished_and_alone_only_the_slow_one_times_out(tmp_path: Path) -> None:
    runtime = _spinning(tmp_path)

    together = runtime.predict([{"x": [2.0]}, {"x": [1e12]}, {"x": [3.0]}], timeout=0.2)  # one group, one run
    alone = [runtime.predict([item], timeout=0.2)[0] for item in ({"x": [2.0]}, {"x": [1e12]}, {"x": [3.0]})]

    assert together == [Unfinished(0.2)] * 3
    assert alone == [{"y": [4.0]}, timed_out(0.2), {"y": [6.0]}]


def test_a_lone_example_run_first_had_the_whole_limit_and_times_out_itself(tmp_path: Path) -> None:
    runtime = _spinning_any_length(tmp_path)

    results = runtime.predict([{"x": [1e12]}, {"x": [1.0, 1.0]}], timeout=0.2)

    assert results == [timed_out(0.2), Unfinished(0.2)]  # the second group was never reached


def test_without_a_time_limit_a_call_runs_to_the_end(tmp_path: Path) -> None:
    assert _spinning(tmp_path).predict([{"x": [1000.0]}]) == [{"y": [2000.0]}]


def test_a_generated_example_fits_every_input(mixed: Path, linear: Path) -> None:
    assert OnnxRuntime(linear).example() == {"x": [1.0, 1.0, 1.0]}
    assert OnnxRuntime(mixed).example() == {"text": "a", "count": [1, 1]}
    assert all(not isinstance(r, ModelFailure) for r in OnnxRuntime(mixed).predict([OnnxRuntime(mixed).example()]))

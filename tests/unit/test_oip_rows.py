"""Tensors to per-example JSON objects and back, and the whole OIP path with the real tritonclient."""

from typing import Any

import numpy as np
import pytest
import tritonclient.http as httpclient

from shared.oip.codec import HEADER_LENGTH, encode_infer_response, parse_infer_request, select_outputs
from shared.oip.rows import check_inputs, infer_specs, rows_from_tensors, tensors_from_rows
from shared.oip.tensors import OipError, Tensor
from shared.registry.models import TensorSpec

X = Tensor("x", "FP64", (2, 3), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
TEXT = Tensor("text", "BYTES", (2,), ["good", "bad"])
CUBE = Tensor("cube", "INT64", (2, 2, 2), [1, 2, 3, 4, 5, 6, 7, 8])
ROWS = [
    {"x": [1.0, 2.0, 3.0], "text": "good", "cube": [[1, 2], [3, 4]]},
    {"x": [4.0, 5.0, 6.0], "text": "bad", "cube": [[5, 6], [7, 8]]},
]
SPECS = [TensorSpec("x", "FP64", (-1, 3)), TensorSpec("text", "BYTES", (-1,)), TensorSpec("cube", "INT64", (-1, 2, 2))]


def test_tensors_split_into_one_object_per_example() -> None:
    assert rows_from_tensors([X, TEXT, CUBE]) == ROWS


def test_rows_stack_back_into_the_same_tensors() -> None:
    assert tensors_from_rows(ROWS, SPECS) == [X, TEXT, CUBE]


def test_zero_examples_round_trip() -> None:
    empty = Tensor("x", "FP32", (0, 3), [])
    assert rows_from_tensors([empty]) == []
    assert tensors_from_rows([], [TensorSpec("x", "FP32", (-1, 3)), TensorSpec("y", "BYTES", (-1, -1))]) == [
        empty,
        Tensor("y", "BYTES", (0, 0), []),
    ]
    assert tensors_from_rows([], []) == []


def test_zero_sized_inner_dimensions_split_into_empty_lists() -> None:
    assert rows_from_tensors([Tensor("x", "FP32", (2, 0), [])]) == [{"x": []}, {"x": []}]


def test_object_values_become_vectors_in_their_order() -> None:
    rows = [{"probs": {"neg": 0.25, "pos": 0.75}}, {"probs": {"neg": 0.5, "pos": 0.5}}]

    [tensor] = tensors_from_rows(rows, [TensorSpec("probs", "FP64", (-1, 2))])

    assert tensor == Tensor("probs", "FP64", (2, 2), [0.25, 0.75, 0.5, 0.5])


def test_a_spec_without_a_shape_takes_any_shape() -> None:
    rows = [{"y": [[1.5]]}]
    assert tensors_from_rows(rows, [TensorSpec("y", "FP64", ())]) == [Tensor("y", "FP64", (1, 1, 1), [1.5])]


def test_extra_members_are_ignored_and_tuples_are_lists() -> None:
    rows = [{"y": (1, 2), "debug": "x"}]
    assert tensors_from_rows(rows, [TensorSpec("y", "INT32", (-1, 2))]) == [Tensor("y", "INT32", (1, 2), [1, 2])]


@pytest.mark.parametrize(
    ("tensors", "match"),
    [
        ([], "no input tensors"),
        ([Tensor("x", "FP32", (), [1.0])], "is a scalar"),
        ([X, Tensor("text", "BYTES", (3,), ["a", "b", "c"])], "first dimension 3 but another input has 2"),
    ],
)
def test_inputs_that_cannot_be_split_are_refused(tensors: list[Tensor], match: str) -> None:
    with pytest.raises(OipError, match=match):
        rows_from_tensors(tensors)


@pytest.mark.parametrize(
    ("rows", "spec", "match"),
    [
        ([{"y": [1.0, 2.0]}, {"y": [1.0]}], TensorSpec("y", "FP64", (-1, -1)), "different shapes"),
        ([{"y": [[1.0], [2.0, 3.0]]}], TensorSpec("y", "FP64", ()), "different shapes"),
        ([{"y": 1.0}, {"z": 2.0}], TensorSpec("y", "FP64", (-1,)), "missing from example 1"),
        ([{"y": [1.0, 2.0]}], TensorSpec("y", "FP64", (-1, 3)), "does not match the model's declared \\[-1, 3\\]"),
        ([{"y": [1.0, 2.0]}], TensorSpec("y", "FP64", (-1,)), "does not match"),
        ([{"y": "high"}], TensorSpec("y", "FP32", (-1,)), "not a number"),
        ([{"y": 300}], TensorSpec("y", "UINT8", (-1,)), "out of range for UINT8"),
        ([{"y": None}], TensorSpec("y", "BOOL", (-1,)), "not a boolean"),
        ([{"y": {1.0, 2.0}}], TensorSpec("y", "FP64", (-1,)), "not a number"),
        ([{"y": [1.0, [2.0]]}], TensorSpec("y", "FP64", ()), "different shapes"),
        ([{"y": [[[[[[[[[[1]]]]]]]]]]}], TensorSpec("y", "INT64", ()), "deeper than 8"),
    ],
)
def test_rows_that_cannot_be_stacked_are_refused(rows: list[dict[str, Any]], spec: TensorSpec, match: str) -> None:
    with pytest.raises(OipError, match=match):
        tensors_from_rows(rows, [spec])


def test_specs_are_inferred_from_the_rows() -> None:
    rows = [
        {"text": "a", "n": 1, "x": 1.5, "ok": True, "v": [1, 2.5], "m": [[1, 2]], "p": {"a": 1, "b": 0.5}},
        {"text": "b", "n": 2, "x": 2, "ok": False, "v": [3, 4], "m": [[3, 4]], "p": {"a": 0, "b": 1}},
    ]

    assert infer_specs(rows) == [
        TensorSpec("text", "BYTES", (-1,)),
        TensorSpec("n", "INT64", (-1,)),
        TensorSpec("x", "FP64", (-1,)),
        TensorSpec("ok", "BOOL", (-1,)),
        TensorSpec("v", "FP64", (-1, 2)),
        TensorSpec("m", "INT64", (-1, 1, 2)),
        TensorSpec("p", "FP64", (-1, 2)),
    ]
    tensors = tensors_from_rows(rows, [])
    assert tensors[2] == Tensor("x", "FP64", (2,), [1.5, 2.0])
    assert tensors[5] == Tensor("m", "INT64", (2, 1, 2), [1, 2, 3, 4])


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([{"y": "a"}, {"y": 1}], "mixes values of different types \\(BYTES, INT64\\)"),
        ([{"y": True}, {"y": 1.0}], "mixes values"),
        ([{"y": None}], "not a string, boolean or number"),
        ([{"y": 1}, {}], "missing from example 1"),
    ],
)
def test_specs_that_cannot_be_inferred_are_refused(rows: list[dict[str, Any]], match: str) -> None:
    with pytest.raises(OipError, match=match):
        infer_specs(rows)


def test_empty_lists_infer_fp64() -> None:
    assert infer_specs([{"y": []}]) == [TensorSpec("y", "FP64", (-1, 0))]


def test_tritonclient_request_through_a_row_model_and_back() -> None:
    """Request -> examples -> a per-example model -> output tensors -> response, with the real client."""
    features = np.array([[1.0, 3.0], [2.0, 8.0], [0.5, 0.5]], dtype=np.float32)
    names = np.array(["ann", "zoë", "bob"], dtype=np.object_)
    inputs = [
        httpclient.InferInput("features", [3, 2], "FP32").set_data_from_numpy(features),
        httpclient.InferInput("name", [3], "BYTES").set_data_from_numpy(names, binary_data=False),
    ]
    outputs = [httpclient.InferRequestedOutput("greeting", binary_data=False), httpclient.InferRequestedOutput("probs")]
    body, json_size = httpclient.InferenceServerClient.generate_request_body(inputs, outputs=outputs, request_id="r")

    request = parse_infer_request(body, json_size)
    examples = rows_from_tensors(request.inputs)
    results = [
        {"greeting": f"hi {e['name']}", "probs": {"low": e["features"][0] / 4, "high": e["features"][1] / 8}}
        for e in examples
    ]
    specs = [TensorSpec("greeting", "BYTES", (-1,)), TensorSpec("probs", "FP32", (-1, 2))]
    selected, binary = select_outputs(request, tensors_from_rows(results, specs))
    body, headers = encode_infer_response("greeter", "2", request.id, selected, binary)

    result = httpclient.InferenceServerClient.parse_response_body(body, header_length=int(headers[HEADER_LENGTH]))
    assert result.get_response()["id"] == "r"
    assert result.as_numpy("greeting").tolist() == ["hi ann", "hi zoë", "hi bob"]
    np.testing.assert_array_equal(
        result.as_numpy("probs"), np.array([[0.25, 0.375], [0.5, 1.0], [0.125, 0.0625]], dtype=np.float32)
    )


def test_declared_inputs_are_checked_by_name_datatype_and_shape() -> None:
    check_inputs([X, TEXT, CUBE], SPECS)

    refusals = {
        "The request has no input 'cube'.": [X, TEXT],
        "The model has no input 'y'; it takes 'x', 'text', 'cube'.": [X, TEXT, CUBE, Tensor("y", "BOOL", (1,), [True])],
        "Input 'x' is FP32; the model takes FP64.": [Tensor("x", "FP32", (2, 3), X.data), TEXT, CUBE],
        "Input 'x' has shape [3, 2], which does not match the model's declared [-1, 3].": [
            Tensor("x", "FP64", (3, 2), X.data),
            TEXT,
            CUBE,
        ],
    }
    for message, inputs in refusals.items():
        with pytest.raises(OipError) as refused:
            check_inputs(inputs, SPECS)
        assert str(refused.value) == message

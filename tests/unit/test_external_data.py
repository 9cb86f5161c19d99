"""External data is found wherever an ONNX model can hold a tensor, with protobuf and no ``onnx`` package."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from google.protobuf.descriptor import Descriptor
from onnx import TensorProto, helper, numpy_helper, onnx_ml_pb2

from shared.runtimes.external_data import FIELDS, UnreadableModelError, has_external_data
from tests.support.onnx_models import IR_VERSION, OPSET, external_data_model, linear_model, loop_model


def _tensor(name: str, external: bool) -> TensorProto:
    tensor = numpy_helper.from_array(np.ones((1, 1), dtype=np.float32), name)
    if external:
        tensor.ClearField("raw_data")
        tensor.data_location = TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", "weights.bin"
    return tensor


def _graph(
    nodes: list[onnx.NodeProto],
    initializer: list[TensorProto] | None = None,
    sparse_initializer: list[onnx.SparseTensorProto] | None = None,
) -> onnx.GraphProto:
    return helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        initializer=initializer or [],
        sparse_initializer=sparse_initializer,
    )


def _model(graph: onnx.GraphProto, *domains: str, **extra: object) -> onnx.ModelProto:
    opsets = [helper.make_opsetid("", OPSET), *(helper.make_opsetid(domain, 1) for domain in domains)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION, **extra)


def _in_initializer(external: bool) -> onnx.ModelProto:
    return _model(_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], [_tensor("W", external)]))


def _in_constant_node(external: bool) -> onnx.ModelProto:
    nodes = [
        helper.make_node("Constant", [], ["W"], value=_tensor("W", external)),
        helper.make_node("MatMul", ["x", "W"], ["y"]),
    ]
    return _model(_graph(nodes))


def _in_a_loop_body(external: bool) -> onnx.ModelProto:
    model = onnx.load_from_string(loop_model(3))
    model.graph.node[0].attribute[0].g.initializer[0].CopyFrom(_tensor("one", external))
    return model


def _in_a_sparse_initializer(external: bool) -> onnx.ModelProto:
    sparse = helper.make_sparse_tensor(_tensor("W", external), numpy_helper.from_array(np.array([0], np.int64)), [1, 1])
    return _model(_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], sparse_initializer=[sparse]))


def _in_a_function(external: bool) -> onnx.ModelProto:
    function = helper.make_function(
        "local",
        "Scale",
        ["a"],
        ["b"],
        [
            helper.make_node("Constant", [], ["k"], value=_tensor("k", external)),
            helper.make_node("Mul", ["a", "k"], ["b"]),
        ],
        [helper.make_opsetid("", OPSET)],
    )
    graph = _graph([helper.make_node("Scale", ["x"], ["y"], domain="local")])
    return _model(graph, "local", functions=[function])


def _in_training_info(external: bool) -> onnx.ModelProto:
    model = _in_initializer(False)
    info = model.training_info.add()
    info.initialization.CopyFrom(_graph([], [_tensor("W", external)]))
    return model


PLACES: list[Callable[[bool], onnx.ModelProto]] = [
    _in_initializer,
    _in_constant_node,
    _in_a_loop_body,
    _in_a_sparse_initializer,
    _in_a_function,
    _in_training_info,
]


@pytest.mark.parametrize("build", PLACES, ids=[place.__name__.removeprefix("_in_") for place in PLACES])
def test_external_data_is_found_wherever_a_tensor_can_be(
    tmp_path: Path, build: Callable[[bool], onnx.ModelProto]
) -> None:
    inside, outside = tmp_path / "inside.onnx", tmp_path / "outside.onnx"
    inside.write_bytes(build(False).SerializeToString())
    outside.write_bytes(build(True).SerializeToString())

    assert has_external_data(outside) is True
    assert has_external_data(inside) is False


def test_the_reported_model_and_plain_models(tmp_path: Path) -> None:
    files = {
        "external": external_data_model("model.onnx"),
        "linear": linear_model([[1.0]], [0.0]),
        "loop": loop_model(5),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    assert [has_external_data(tmp_path / name) for name in files] == [True, False, False]


def test_a_location_flag_alone_counts_as_external(tmp_path: Path) -> None:
    model = _in_initializer(False)
    model.graph.initializer[0].data_location = TensorProto.EXTERNAL  # onnxruntime goes by this flag
    path = tmp_path / "flagged.onnx"
    path.write_bytes(model.SerializeToString())

    assert has_external_data(path) is True


def test_a_file_that_is_not_protobuf_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\xff" * 64)

    with pytest.raises(UnreadableModelError):
        has_external_data(path)


def test_field_numbers_equal_onnx_proto() -> None:
    for message_name, fields in FIELDS.items():
        descriptor = onnx_ml_pb2.DESCRIPTOR.message_types_by_name[message_name]
        for name, number, type_name, repeated in fields:
            field = descriptor.fields_by_name[name]
            assert field.number == number, (message_name, name)
            assert field.is_repeated == repeated, (message_name, name)
            if type_name is None:
                assert field.message_type is None, (message_name, name)
            else:
                assert field.message_type.name == type_name, (message_name, name)


def test_every_path_to_a_tensor_in_onnx_proto_is_covered() -> None:
    """Every message field of onnx.proto through which a TensorProto can be reached is declared in FIELDS."""
    messages: dict[str, Descriptor] = {}

    def collect(descriptor: Descriptor) -> None:
        if descriptor.name not in messages:
            messages[descriptor.name] = descriptor
            for field in descriptor.fields:
                if field.message_type is not None:
                    collect(field.message_type)

    collect(onnx_ml_pb2.ModelProto.DESCRIPTOR)
    reaches = {"TensorProto"}
    while True:
        more = {
            name
            for name, descriptor in messages.items()
            if any(f.message_type is not None and f.message_type.name in reaches for f in descriptor.fields)
        }
        if more <= reaches:
            break
        reaches |= more
    needed = {
        (name, field.name)
        for name in reaches - {"TensorProto"}
        for field in messages[name].fields
        if field.message_type is not None and field.message_type.name in reaches
    }
    declared = {(name, field[0]) for name, fields in FIELDS.items() for field in fields}

    assert needed <= declared

"""Whether an ONNX file keeps any tensor's data outside itself ("external data").

onnxruntime resolves external data relative to the model file's folder and refuses absolute and ``..``
paths, but a plain name still reads whatever file of that name sits beside the model: the inspector's
own copy, or another model in the cache. Registration therefore refuses every model with external data.

The check parses the file with protobuf against the part of ``onnx.proto`` that can hold a tensor (the
``onnx`` package is a development dependency only; protobuf comes with onnxruntime). Every other field is
skipped. A test keeps these field numbers equal to the ``onnx`` package's and checks that every path to a
``TensorProto`` in a ``ModelProto`` is covered.
"""

from functools import cache
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

_PACKAGE = "infergate.onnxsubset"
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL

# message -> [(field, number, message type or None for an int32, repeated)]
FIELDS: dict[str, list[tuple[str, int, str | None, bool]]] = {
    "ModelProto": [("graph", 7, "GraphProto", False), ("training_info", 20, "TrainingInfoProto", True),
                   ("functions", 25, "FunctionProto", True)],
    "TrainingInfoProto": [("initialization", 1, "GraphProto", False), ("algorithm", 2, "GraphProto", False)],
    "FunctionProto": [("node", 7, "NodeProto", True), ("attribute_proto", 11, "AttributeProto", True)],
    "GraphProto": [("node", 1, "NodeProto", True), ("initializer", 5, "TensorProto", True),
                   ("sparse_initializer", 15, "SparseTensorProto", True)],
    "NodeProto": [("attribute", 5, "AttributeProto", True)],
    "AttributeProto": [("t", 5, "TensorProto", False), ("g", 6, "GraphProto", False),
                       ("tensors", 10, "TensorProto", True), ("graphs", 11, "GraphProto", True),
                       ("sparse_tensor", 22, "SparseTensorProto", False),
                       ("sparse_tensors", 23, "SparseTensorProto", True)],
    "SparseTensorProto": [("values", 1, "TensorProto", False), ("indices", 2, "TensorProto", False)],
    "TensorProto": [("external_data", 13, "StringStringEntryProto", True), ("data_location", 14, None, False)],
    "StringStringEntryProto": [],
}  # fmt: skip


class UnreadableModelError(Exception):
    """The file is not a protobuf ``ModelProto``."""


def has_external_data(path: Path) -> bool:
    """True if any tensor of the model (graphs, subgraphs, functions, attributes, sparse tensors) is external."""
    return graph_has_external_data(path.read_bytes())


def graph_has_external_data(data: bytes) -> bool:
    """``has_external_data`` of a model held in memory (a text model's graph, read from its archive)."""
    model = _model_class()()
    try:
        model.ParseFromString(data)
    except DecodeError as exc:
        raise UnreadableModelError("not an ONNX protobuf") from exc
    return _any_external(model)


def _any_external(message: Any) -> bool:
    if message.DESCRIPTOR.name == "TensorProto":
        return bool(message.data_location == EXTERNAL or len(message.external_data) > 0)
    for field, value in message.ListFields():
        if field.message_type is not None and any(
            _any_external(item) for item in (value if field.is_repeated else [value])
        ):
            return True
    return False


@cache
def _model_class() -> Any:
    file = descriptor_pb2.FileDescriptorProto(name=f"{_PACKAGE}.proto", package=_PACKAGE, syntax="proto2")
    for name, fields in FIELDS.items():
        message = file.message_type.add(name=name)
        for field_name, number, type_name, repeated in fields:
            field = message.field.add(name=field_name, number=number)
            field.label = field.LABEL_REPEATED if repeated else field.LABEL_OPTIONAL
            if type_name is None:
                field.type = field.TYPE_INT32
            else:
                field.type = field.TYPE_MESSAGE
                field.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.ModelProto"))

"""Between tensors and per-example JSON objects (one member per tensor, the example's row as its value)."""

from collections.abc import Mapping, Sequence
from typing import Any

from shared.oip.elements import coerce_elements
from shared.oip.tensors import MAX_RANK, OipError, Tensor, check_shape, element_count, shown
from shared.registry.models import TensorSpec


def rows_from_tensors(inputs: Sequence[Tensor]) -> list[dict[str, Any]]:
    """One JSON object per example: ``{name: row}`` with each tensor's slice along its first dimension."""
    if not inputs:
        raise OipError("There are no input tensors to split into examples.")
    batch = None
    for tensor in inputs:
        if not tensor.shape:
            raise OipError(f"Input {shown(tensor.name)} is a scalar; inputs need a first (batch) dimension.")
        if batch is None:
            batch = tensor.shape[0]
        elif tensor.shape[0] != batch:
            raise OipError(
                f"Input {shown(tensor.name)} has first dimension {tensor.shape[0]} but another input has {batch}; "
                "all inputs need the same first (batch) dimension."
            )
    rows: list[dict[str, Any]] = [{} for _ in range(batch or 0)]
    for tensor in inputs:
        inner = tensor.shape[1:]
        stride = element_count(inner)
        for index, row in enumerate(rows):
            row[tensor.name] = _nest(tensor.data[index * stride : (index + 1) * stride], inner)
    return rows


def _nest(flat: list[Any], shape: tuple[int, ...]) -> Any:
    """``flat`` (row-major) as nested lists of ``shape``; its single element when ``shape`` is empty."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = element_count(shape[1:])
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def tensors_from_rows(rows: Sequence[Mapping[str, Any]], specs: Sequence[TensorSpec]) -> list[Tensor]:
    """Stack the examples' values of each spec's tensor along a new first axis (specs inferred when empty)."""
    return [_stack(rows, spec) for spec in (specs or infer_specs(rows))]


def infer_specs(rows: Sequence[Mapping[str, Any]]) -> list[TensorSpec]:
    """Specs for the first row's members: str → BYTES, bool → BOOL, int → INT64, float (or int and float) → FP64."""
    if not rows:
        return []
    specs: list[TensorSpec] = []
    for name in rows[0]:
        what = f"Output {shown(name)}"
        values = [_plain(_member(row, name, index, what), what) for index, row in enumerate(rows)]
        leaves = _flatten(values, len(_shape_of(values, what)))
        specs.append(TensorSpec(name, _datatype_of(leaves, what), (-1, *_shape_of(values[0], what))))
    return specs


_KINDS = {bool: "BOOL", int: "INT64", float: "FP64", str: "BYTES", bytes: "BYTES"}


def _datatype_of(leaves: list[Any], what: str) -> str:
    types = set(map(type, leaves))
    if not types <= _KINDS.keys():
        raise OipError(f"{what} holds a value that is not a string, boolean or number.")
    kinds = {_KINDS[t] for t in types}
    if kinds <= {"INT64", "FP64"}:
        return "INT64" if kinds == {"INT64"} else "FP64"
    if len(kinds) == 1:
        return kinds.pop()
    raise OipError(f"{what} mixes values of different types ({', '.join(sorted(kinds))}).")


def _stack(rows: Sequence[Mapping[str, Any]], spec: TensorSpec) -> Tensor:
    what = f"Output {shown(spec.name)}"
    values = [_plain(_member(row, spec.name, index, what), what) for index, row in enumerate(rows)]
    found = _shape_of(values, what) if values else (0, *(max(dim, 0) for dim in spec.shape[1:]))
    shape = check_shape(list(found), what)
    _conform(shape, spec, what)
    data = coerce_elements(spec.datatype, _flatten(values, len(shape)), what)
    return Tensor(spec.name, spec.datatype, shape, data)


def _member(row: Mapping[str, Any], name: str, index: int, what: str) -> Any:
    if name not in row:
        raise OipError(f"{what} is missing from example {index}.")
    return row[name]


_SCALARS = frozenset(_KINDS) | {type(None)}


def _plain(value: Any, what: str, depth: int = 0) -> Any:
    """Lists for tuples and for JSON objects (their values, in order); scalars unchanged."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping):
        value = list(value.values())
    elif not isinstance(value, list | tuple):
        return value
    if depth >= MAX_RANK:
        raise OipError(f"{what} is nested deeper than {MAX_RANK} levels.")
    if set(map(type, value)) <= _SCALARS:
        return list(value)
    return [_plain(item, what, depth + 1) for item in value]


def _shape_of(value: Any, what: str) -> tuple[int, ...]:
    """The shape of rectangular nested lists (``()`` for a scalar); OipError when ragged."""
    if not isinstance(value, list):
        return ()
    if not value:
        return (0,)
    if not isinstance(value[0], list):
        if list in set(map(type, value)):
            raise OipError(f"{what} has examples (or nested lists) of different shapes.")
        return (len(value),)
    inner = _shape_of(value[0], what)
    if any(_shape_of(item, what) != inner for item in value[1:]):
        raise OipError(f"{what} has examples (or nested lists) of different shapes.")
    return (len(value), *inner)


def _conform(shape: tuple[int, ...], spec: TensorSpec, what: str) -> None:
    """OipError when ``shape`` contradicts the spec's declared shape (``-1`` matches any size)."""
    if not spec.shape:
        return
    declared = list(spec.shape)
    if len(declared) != len(shape) or any(d not in (-1, actual) for d, actual in zip(declared, shape, strict=True)):
        raise OipError(f"{what} has shape {list(shape)}, which does not match the model's declared {declared}.")


def _flatten(values: list[Any], rank: int) -> list[Any]:
    for _ in range(rank - 1):
        values = [element for item in values for element in item]
    return values


def check_inputs(inputs: Sequence[Tensor], specs: Sequence[TensorSpec]) -> None:
    """OipError unless the inputs are exactly the declared tensors, each of its datatype and shape."""
    declared = {spec.name: spec for spec in specs}
    for tensor in inputs:
        spec = declared.get(tensor.name)
        if spec is None:
            names = ", ".join(shown(name) for name in declared)
            raise OipError(f"The model has no input {shown(tensor.name)}; it takes {names}.")
        what = f"Input {shown(tensor.name)}"
        if tensor.datatype != spec.datatype:
            raise OipError(f"{what} is {tensor.datatype}; the model takes {spec.datatype}.")
        _conform(tensor.shape, spec, what)
    given = {tensor.name for tensor in inputs}
    missing = [name for name in declared if name not in given]
    if missing:
        raise OipError(f"The request has no input {shown(missing[0])}.")

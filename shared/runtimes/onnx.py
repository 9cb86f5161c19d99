"""``onnx``: a model file served by onnxruntime on CPU, micro-batching the examples of one request.

One example's JSON is ``{<graph input name>: row}``, a row being the input tensor without its first (batch)
dimension as nested lists (a scalar for a rank-1 input). The first dimension of every graph input is the batch:
when it is dynamic, examples whose rows have the same shapes run together in one ``session.run``; when it is a
fixed 1, examples run one at a time. Each example's result is ``{<graph output name>: row}``.

A call may be given a time budget: a watchdog thread sets ``RunOptions.terminate`` when it is spent, and
onnxruntime stops the run between kernels (a ``Loop`` checks it on every iteration), so the inputs not
finished by then stop and the session stays usable. An input fails with ``timeout`` only when it had the
limit to itself (the call's only input, or a lone example run first); inputs stopped together with others,
or never reached, are ``Unfinished``: the caller runs them again alone, so one slow input cannot fail its
neighbours. A single kernel that runs long
(one huge ``MatMul``) is not interrupted: the function's own timeout is the last bound.
"""

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from shared.registry.models import TensorSpec
from shared.runtimes.base import JsonObject, ModelFailure, RuntimeResult, Unfinished, timed_out
from shared.runtimes.sessions import RunTimedOutError as _TimedOutError
from shared.runtimes.sessions import SessionUnusableError, open_session, run_until

Signature = tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]
Array = npt.NDArray[Any]

# onnxruntime tensor type -> (Open Inference Protocol datatype, numpy dtype the runtime feeds).
_TENSOR_TYPES: dict[str, tuple[str, np.dtype[Any]]] = {
    "tensor(float)": ("FP32", np.dtype(np.float32)),
    "tensor(double)": ("FP64", np.dtype(np.float64)),
    "tensor(float16)": ("FP16", np.dtype(np.float16)),
    "tensor(int8)": ("INT8", np.dtype(np.int8)),
    "tensor(int16)": ("INT16", np.dtype(np.int16)),
    "tensor(int32)": ("INT32", np.dtype(np.int32)),
    "tensor(int64)": ("INT64", np.dtype(np.int64)),
    "tensor(uint8)": ("UINT8", np.dtype(np.uint8)),
    "tensor(uint16)": ("UINT16", np.dtype(np.uint16)),
    "tensor(uint32)": ("UINT32", np.dtype(np.uint32)),
    "tensor(uint64)": ("UINT64", np.dtype(np.uint64)),
    "tensor(bool)": ("BOOL", np.dtype(np.bool_)),
    "tensor(string)": ("BYTES", np.dtype(object)),
}
# A sequence of maps, one per example (scikit-learn classifiers' ZipMap probabilities): an FP32 [-1, -1] tensor.
_MAP_OUTPUT_TYPES = frozenset({"seq(map(string,tensor(float)))", "seq(map(int64,tensor(float)))"})

INVALID_INPUT = "invalid_input"
MODEL_ERROR = "model_error"
_RUN_FAILED = ModelFailure(MODEL_ERROR, "The model failed on this input.")
NON_FINITE = ModelFailure(MODEL_ERROR, "The model produced a non-finite number.")


class UnsupportedModelError(Exception):
    """The file is not an ONNX model this runtime can serve. The message is safe to show a user."""


@dataclass(frozen=True)
class _Input:
    name: str
    datatype: str
    dtype: np.dtype[Any]
    row_shape: tuple[int | None, ...]  # one example's static dims; None is any size
    dynamic_batch: bool

    @property
    def spec(self) -> TensorSpec:
        batch = -1 if self.dynamic_batch else 1
        return TensorSpec(self.name, self.datatype, (batch, *(-1 if d is None else d for d in self.row_shape)))


@dataclass(frozen=True)
class _Output:
    name: str
    is_map: bool
    spec: TensorSpec


class _InvalidInputError(Exception):
    """One example's input cannot be fed to the model (the message is safe to show)."""


class _BatchMismatchError(Exception):
    """A batched run's outputs do not split into one row per example."""


class OnnxRuntime:
    """A runtime over one ONNX model file: CPU, single-threaded, micro-batched."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no ONNX model file at {os.fspath(path)!r}")
        self._session: Any = _open_session(path)
        self._inputs = tuple(_read_input(arg) for arg in self._session.get_inputs())
        self._outputs = tuple(_read_output(arg) for arg in self._session.get_outputs())
        if not self._inputs or not self._outputs:
            raise UnsupportedModelError(
                "The model takes no inputs." if not self._inputs else "The model has no outputs."
            )
        self._batched = all(spec.dynamic_batch for spec in self._inputs)

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        return tuple(spec.spec for spec in self._inputs)

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return tuple(spec.spec for spec in self._outputs)

    def signature(self) -> Signature:
        """The model's ``(inputs, outputs)`` tensors; ``-1`` is a dynamic dimension."""
        return self.inputs, self.outputs

    def example(self) -> JsonObject:
        """A generated example: ones (``"a"`` for strings, true for booleans), dynamic dimensions of size 1."""
        example: JsonObject = {}
        for spec in self._inputs:
            shape = tuple(1 if dim is None else dim for dim in spec.row_shape)
            fill: object = "a" if spec.dtype.kind == "O" else 1
            example[spec.name] = np.full(shape, fill, dtype=spec.dtype).tolist()
        return example

    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        deadline = None if timeout is None else time.monotonic() + timeout
        results: list[RuntimeResult] = [_RUN_FAILED] * len(inputs)
        groups: dict[object, list[tuple[int, dict[str, Array]]]] = {}
        for index, item in enumerate(inputs):
            try:
                rows = self._rows(item)
            except _InvalidInputError as error:
                results[index] = ModelFailure(INVALID_INPUT, str(error))
                continue
            key: object = tuple(rows[spec.name].shape for spec in self._inputs) if self._batched else index
            groups.setdefault(key, []).append((index, rows))
        ran_before = False  # whether an earlier group of this call used part of its limit
        for members in groups.values():
            try:
                group_results = self._run_group([rows for _, rows in members], deadline)
            except _TimedOutError:
                assert timeout is not None
                alone = len(members) == 1 and not ran_before  # the example had the whole limit to itself
                group_results = [timed_out(timeout) if alone else Unfinished(timeout)] * len(members)
            ran_before = True
            for (index, _), result in zip(members, group_results, strict=True):
                results[index] = result
        return results

    def _rows(self, item: Mapping[str, Any]) -> dict[str, Array]:
        if not isinstance(item, Mapping):
            raise _InvalidInputError("Each input must be a JSON object.")
        rows: dict[str, Array] = {}
        for spec in self._inputs:
            if spec.name not in item:
                raise _InvalidInputError(f"Input '{spec.name}' is missing.")
            rows[spec.name] = _to_row(spec, item[spec.name])
        return rows

    def _run_group(self, rows: list[dict[str, Array]], deadline: float | None) -> list[RuntimeResult]:
        """Run examples together; if that fails, run them one by one so only the bad ones fail.

        Out of time is not a failure of the examples: it ends the group (``_TimedOutError``), and the
        caller decides whether it is the example's own ``timeout`` or ``Unfinished``."""
        try:
            return self._run(rows, deadline)
        except _TimedOutError:
            raise
        except Exception:  # noqa: BLE001 - onnxruntime raises plain Exception subclasses
            if len(rows) == 1:
                return [_RUN_FAILED]
        return [result for row in rows for result in self._run_group([row], deadline)]

    def _run(self, rows: list[dict[str, Array]], deadline: float | None) -> list[RuntimeResult]:
        # onnxruntime computes a single row with other kernels (GEMV) than a batch (GEMM), which sum in
        # another order: a lone example runs as two identical rows, so its output has the same bits
        # whether it ran alone (sync predict) or in any micro-batch. Outputs without a batch dimension
        # cannot be padded; those models run the example alone.
        if len(rows) == 1 and self._batched:
            try:
                return self._run_rows(rows * 2, deadline)[:1]
            except _BatchMismatchError:
                pass
        return self._run_rows(rows, deadline)

    def _run_rows(self, rows: list[dict[str, Array]], deadline: float | None) -> list[RuntimeResult]:
        feeds = {spec.name: np.stack([row[spec.name] for row in rows]) for spec in self._inputs}
        values = self._session_run(feeds, deadline)
        columns = [_split(output, value, len(rows)) for output, value in zip(self._outputs, values, strict=True)]
        return [self._result(example) for example in zip(*columns, strict=True)]

    def _session_run(self, feeds: dict[str, Array], deadline: float | None) -> Any:
        """``session.run``, stopped by a watchdog at ``deadline`` (``time.monotonic()``) if it is still running."""
        return run_until(self._session, feeds, deadline)

    def _result(self, example: tuple[Any, ...]) -> RuntimeResult:
        result: JsonObject = {}
        for output, value in zip(self._outputs, example, strict=True):
            converted = _map_to_json(value) if output.is_map else _tensor_to_json(value)
            if converted is None:
                return NON_FINITE
            result[output.name] = converted
        return result


def describe(path: str | os.PathLike[str]) -> Signature:
    """The ``(inputs, outputs)`` tensors of an ONNX model file; raises ``UnsupportedModelError``."""
    return OnnxRuntime(path).signature()


def _open_session(path: str | os.PathLike[str]) -> Any:
    try:
        return open_session(path)
    except SessionUnusableError as error:
        raise UnsupportedModelError(str(error)) from error


def _read_input(arg: Any) -> _Input:
    name = str(arg.name)
    if arg.type not in _TENSOR_TYPES:
        raise UnsupportedModelError(f"Input '{name}' has type {arg.type}, which this runtime does not support.")
    datatype, dtype = _TENSOR_TYPES[arg.type]
    shape = list(arg.shape or [])
    if not shape:
        raise UnsupportedModelError(f"Input '{name}' has no batch dimension (its shape is scalar or unknown).")
    batch = shape[0]
    if isinstance(batch, int) and batch != 1:
        raise UnsupportedModelError(f"Input '{name}' has a fixed batch dimension of {batch}; it must be dynamic or 1.")
    row_shape = tuple(dim if isinstance(dim, int) and dim >= 0 else None for dim in shape[1:])
    return _Input(name, datatype, dtype, row_shape, dynamic_batch=not isinstance(batch, int))


def _read_output(arg: Any) -> _Output:
    name = str(arg.name)
    if arg.type in _MAP_OUTPUT_TYPES:
        return _Output(name, is_map=True, spec=TensorSpec(name, "FP32", (-1, -1)))
    if arg.type not in _TENSOR_TYPES:
        raise UnsupportedModelError(f"Output '{name}' has type {arg.type}, which this runtime does not support.")
    shape = tuple(dim if isinstance(dim, int) and dim >= 0 else -1 for dim in arg.shape or [])
    return _Output(name, is_map=False, spec=TensorSpec(name, _TENSOR_TYPES[arg.type][0], shape))


def _to_row(spec: _Input, value: Any) -> Array:
    """One example's value as an array of the input's dtype and row shape (never echoes the value)."""
    row = _to_strings(spec, value) if spec.dtype.kind == "O" else _to_numbers(spec, value)
    if row.ndim != len(spec.row_shape) or any(
        want is not None and got != want for got, want in zip(row.shape, spec.row_shape, strict=True)
    ):
        expected = [-1 if dim is None else dim for dim in spec.row_shape]
        raise _InvalidInputError(
            f"Input '{spec.name}' must have shape {expected} per example (-1 is any size); got {list(row.shape)}."
        )
    return row


def _to_strings(spec: _Input, value: Any) -> Array:
    try:
        row: Array = np.asarray(value, dtype=object)
    except (ValueError, TypeError) as error:
        raise _InvalidInputError(f"Input '{spec.name}' must be a rectangular nested list of strings.") from error
    if not all(isinstance(element, str) for element in row.flat):
        raise _InvalidInputError(f"Input '{spec.name}' must hold only strings.")
    return row


def _to_numbers(spec: _Input, value: Any) -> Array:
    kind = spec.dtype.kind
    what = {"b": "true/false values", "f": "numbers"}.get(kind, "integers")
    try:
        source = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as error:
        raise _InvalidInputError(f"Input '{spec.name}' must be a rectangular nested list of {what}.") from error
    if kind == "b":
        if source.dtype.kind != "b":
            raise _InvalidInputError(f"Input '{spec.name}' must hold only {what}.")
        return source
    if not _numeric(source) or (kind != "f" and source.dtype.kind == "f" and not _integral(source)):
        raise _InvalidInputError(f"Input '{spec.name}' must hold only {what}.")
    if kind == "f":
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                row = source.astype(spec.dtype)
        except OverflowError:
            row = np.array([np.inf])
        if not np.isfinite(row).all():
            raise _InvalidInputError(
                f"Input '{spec.name}' must hold finite numbers within the range of {spec.datatype}."
            )
        return row
    try:
        return np.asarray(value, dtype=spec.dtype)  # exact from Python numbers; out of range raises OverflowError
    except OverflowError as error:
        raise _InvalidInputError(f"Input '{spec.name}' holds a number outside the range of {spec.datatype}.") from error


def _numeric(source: Array) -> bool:
    """Numbers only: an integer or float array, or an object array of integers too large for int64."""
    if source.dtype.kind == "O":
        return all(isinstance(element, int) and not isinstance(element, bool) for element in source.flat)
    return source.dtype.kind in "iuf"


def _integral(source: Array) -> bool:
    return bool(np.isfinite(source).all() and (source == np.trunc(source)).all())


def _split(output: _Output, value: Any, count: int) -> list[Any]:
    """One run's output as one value per example; a single example may get an output with no batch dimension."""
    if output.is_map:
        if isinstance(value, list) and len(value) == count:
            return value
    elif isinstance(value, np.ndarray):
        if value.ndim >= 1 and value.shape[0] == count:
            return list(value)
        if count == 1:
            return [value]
    raise _BatchMismatchError(f"output '{output.name}' does not have one row per example")


def _tensor_to_json(value: Any) -> Any | None:
    """A tensor row as JSON (lists of Python scalars), or None if it holds a non-finite number."""
    row = np.asarray(value)
    if row.dtype.kind in "fc" and not np.isfinite(row).all():
        return None
    converted = row.tolist()
    return _decode(converted) if row.dtype.kind in "OSU" else converted


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(element) for element in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _map_to_json(value: Any) -> dict[str, float] | None:
    """One example's map (e.g. class -> probability) with string keys, or None if a value is non-finite."""
    converted = {_decode(key) if isinstance(key, bytes) else str(key): float(number) for key, number in value.items()}
    return converted if all(math.isfinite(number) for number in converted.values()) else None

"""Build the bundled ``iris`` ONNX classifier: ``python -m tools.build_iris_model``.

Trains a logistic regression on scikit-learn's bundled iris data (string class labels), converts it with skl2onnx
and writes ``shared/runtimes/bundled/iris.onnx``. Re-running produces the same bytes.
"""

import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

ARTIFACT = Path(__file__).resolve().parents[1] / "shared" / "runtimes" / "bundled" / "iris.onnx"
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
# Coefficients are rounded so that tiny floating-point differences between machines give the same artifact.
DECIMALS = 6
OUTPUT_NAMES = {"output_label": "label", "output_probability": "probabilities"}
DOC_STRING = (
    "Iris species classifier (logistic regression). Input 'features': sepal length, sepal width, petal length,"
    " petal width (cm). Outputs 'label' (species) and 'probabilities' (species -> probability)."
)


def load_data() -> tuple[Any, Any]:
    """The 150 iris examples (float64 features) and their species names."""
    iris = load_iris()
    return np.asarray(iris.data, dtype=np.float64), iris.target_names[iris.target]


def train_classifier() -> Any:
    """A fitted, deterministic ``LogisticRegression`` over string labels (setosa, versicolor, virginica)."""
    features, labels = load_data()
    # Newton-Cholesky converges to the (unique) optimum tightly, so the rounded coefficients are stable.
    classifier = LogisticRegression(solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(features, labels)
    classifier.coef_ = np.round(classifier.coef_, DECIMALS)
    classifier.intercept_ = np.round(classifier.intercept_, DECIMALS)
    return classifier


def build_model(classifier: Any) -> onnx.ModelProto:
    """The classifier as ONNX: input ``features`` float [N, 4]; outputs ``label`` and ``probabilities``."""
    model: onnx.ModelProto = convert_sklearn(
        classifier,
        name="iris",
        initial_types=[("features", FloatTensorType([None, 4]))],
        target_opset=TARGET_OPSET,
        options={id(classifier): {"zipmap": True}},
    )
    for old, new in OUTPUT_NAMES.items():
        _rename_value(model.graph, old, new)
    # skl2onnx lists the opsets in set order (which varies with PYTHONHASHSEED): sort them.
    opsets = sorted((opset.domain, opset.version) for opset in model.opset_import)
    del model.opset_import[:]
    model.opset_import.extend(onnx.helper.make_opsetid(domain, version) for domain, version in opsets)
    model.graph.name = "iris"
    model.graph.doc_string = ""
    model.producer_name = "infergate"
    model.producer_version = "1"
    model.domain = ""
    model.model_version = 1
    model.doc_string = DOC_STRING
    del model.metadata_props[:]
    onnx.checker.check_model(model, full_check=True)
    return model


def build_model_bytes() -> bytes:
    """The serialized model; the same bytes every time."""
    data: bytes = build_model(train_classifier()).SerializeToString(deterministic=True)
    return data


def main() -> None:
    data = build_model_bytes()
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    sys.stdout.write(f"wrote {ARTIFACT}: {len(data)} bytes, sha256 {digest}\n")


def _rename_value(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Rename a value everywhere it is produced or used; a different value already named ``new`` moves aside."""
    if old == new:
        return
    names = _value_names(graph)
    if new in names:
        spare = next(f"{new}_{n}" for n in range(1, len(names) + 2) if f"{new}_{n}" not in names)
        _replace(graph, new, spare)
    _replace(graph, old, new)


def _value_names(graph: onnx.GraphProto) -> set[str]:
    names = {value.name for value in (*graph.input, *graph.output, *graph.value_info)}
    names.update(tensor.name for tensor in graph.initializer)
    for node in graph.node:
        names.update(node.input)
        names.update(node.output)
    return names


def _replace(graph: onnx.GraphProto, old: str, new: str) -> None:
    for node in graph.node:
        for names in (node.input, node.output):
            for index, name in enumerate(names):
                if name == old:
                    names[index] = new
    for value in (*graph.input, *graph.output, *graph.value_info):
        if value.name == old:
            value.name = new
    for tensor in graph.initializer:
        if tensor.name == old:
            tensor.name = new


if __name__ == "__main__":
    main()

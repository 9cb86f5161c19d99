"""The bundled iris model: built by tools.build_iris_model and served by the ONNX runtime."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shared.registry.models import TensorSpec
from shared.runtimes.onnx import OnnxRuntime
from tools.build_iris_model import build_model_bytes, load_data, train_classifier

ARTIFACT = Path(__file__).resolve().parents[2] / "shared" / "runtimes" / "bundled" / "iris.onnx"


@pytest.fixture(scope="module")
def classifier() -> Any:
    return train_classifier()


def test_the_model_agrees_with_scikit_learn_on_every_iris_example(classifier: Any) -> None:
    features, _ = load_data()

    results = OnnxRuntime(ARTIFACT).predict([{"features": row.tolist()} for row in features])

    assert len(results) == 150
    assert all(isinstance(result, dict) for result in results)
    labels = [result["label"] for result in results]  # type: ignore[index]
    assert labels == classifier.predict(features).tolist()
    probabilities = np.array(
        [[result["probabilities"][name] for name in classifier.classes_] for result in results]  # type: ignore[index]
    )
    np.testing.assert_allclose(probabilities, classifier.predict_proba(features), rtol=0, atol=1e-5)
    assert set(labels) == {"setosa", "versicolor", "virginica"}


def test_the_signature() -> None:
    runtime = OnnxRuntime(ARTIFACT)

    assert runtime.inputs == (TensorSpec("features", "FP32", (-1, 4)),)
    assert runtime.outputs == (TensorSpec("label", "BYTES", (-1,)), TensorSpec("probabilities", "FP32", (-1, -1)))


def test_the_committed_artifact_is_what_the_script_builds() -> None:
    assert build_model_bytes() == ARTIFACT.read_bytes()
    assert ARTIFACT.stat().st_size < 8192

"""Built-in runtimes."""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import pytest

from shared.registry.models import ModelRef
from shared.registry.service import ModelRegistry
from shared.runtimes.artifacts import ArtifactFiles
from shared.runtimes.base import ModelFailure, RuntimeResult, Unfinished, timed_out
from shared.runtimes.calls import predict_isolating_faults
from shared.runtimes.loader import RuntimeLoader, RuntimeUnavailableError
from shared.runtimes.sentiment import SentimentRuntime, label_for
from tests.support.fakes import InMemoryModelStore


@pytest.mark.parametrize(
    ("compound", "label"), [(0.05, "positive"), (0.049, "neutral"), (-0.049, "neutral"), (-0.05, "negative")]
)
def test_label_thresholds(compound: float, label: str) -> None:
    assert label_for(compound) == label


def test_sentiment_scores_real_text() -> None:
    positive, negative = SentimentRuntime().predict(
        [{"text": "I love this, it is wonderful!"}, {"text": "Terrible. I hate it."}]
    )

    assert isinstance(positive, dict)
    assert isinstance(negative, dict)
    assert positive["label"] == "positive"
    assert negative["label"] == "negative"
    assert set(positive) == {"label", "compound", "pos", "neu", "neg"}


def test_sentiment_fails_only_the_bad_item() -> None:
    good, bad = SentimentRuntime().predict([{"text": "fine"}, {"text": 3}])

    assert isinstance(good, dict)
    assert isinstance(bad, ModelFailure)


def _loader(tmp_path: Path) -> RuntimeLoader:
    return RuntimeLoader(ArtifactFiles(_NoDownloads(), tmp_path))


class _NoDownloads:
    def download(self, key: str, destination: Path) -> None:
        raise AssertionError("built-in runtimes download nothing")


def test_runtimes_are_loaded_once_per_container(tmp_path: Path) -> None:
    version = ModelRegistry(InMemoryModelStore()).resolve("acme", ModelRef("echo"))
    load = _loader(tmp_path)

    assert load(version) is load(version)
    assert load(version).predict([{"a": 1}]) == [{"a": 1}]


@pytest.mark.parametrize("runtime", ["onnx", "builtin"])
def test_a_model_without_a_runtime_is_reported(tmp_path: Path, runtime: Literal["onnx", "builtin"]) -> None:
    echo = ModelRegistry(InMemoryModelStore()).resolve("acme", ModelRef("echo"))
    version = replace(echo, runtime=runtime, name="echo" if runtime == "onnx" else "mystery")

    with pytest.raises(RuntimeUnavailableError):
        _loader(tmp_path)(version)


class _StopsEverything:
    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        return [Unfinished(1.5) for _ in inputs]


def test_a_lone_input_stopped_at_the_limit_times_out_and_inputs_stopped_together_stay_unfinished() -> None:
    alone = predict_isolating_faults(_StopsEverything(), [{"n": 1}], "spin", 1.5)
    together = predict_isolating_faults(_StopsEverything(), [{"n": 1}, {"n": 2}], "spin", 1.5)

    assert alone == [timed_out(1.5)]  # it had the limit to itself: its own outcome
    assert together == [Unfinished(1.5), Unfinished(1.5)]

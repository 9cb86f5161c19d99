"""Built-in runtimes."""

import pytest

from shared.registry.models import ModelRef
from shared.registry.service import ModelRegistry
from shared.runtimes.base import ModelFailure
from shared.runtimes.loader import RuntimeUnavailableError, load_runtime
from shared.runtimes.sentiment import SentimentRuntime, label_for


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


def test_runtimes_are_loaded_once_per_container() -> None:
    version = ModelRegistry().resolve(ModelRef("echo"))

    assert load_runtime(version) is load_runtime(version)
    assert load_runtime(version).predict([{"a": 1}]) == [{"a": 1}]


def test_a_model_without_a_runtime_is_reported() -> None:
    from dataclasses import replace

    version = replace(ModelRegistry().resolve(ModelRef("echo")), runtime="onnx")

    with pytest.raises(RuntimeUnavailableError):
        load_runtime(version)

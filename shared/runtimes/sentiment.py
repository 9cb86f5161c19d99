"""``sentiment``: VADER lexicon sentiment. vaderSentiment is imported when the runtime is built."""

from collections.abc import Mapping, Sequence
from typing import Any

from shared.runtimes.base import ModelFailure, RuntimeResult

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


def label_for(compound: float) -> str:
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


class SentimentRuntime:
    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # heavy: inference path only

        self._analyzer = SentimentIntensityAnalyzer()

    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        return [self._score(item) for item in inputs]

    def _score(self, item: Mapping[str, Any]) -> RuntimeResult:
        text = item.get("text")
        if not isinstance(text, str):
            return ModelFailure("invalid_input", "sentiment needs a 'text' string")
        scores = self._analyzer.polarity_scores(text)
        compound = float(scores["compound"])
        return {
            "label": label_for(compound),
            "compound": compound,
            "pos": float(scores["pos"]),
            "neu": float(scores["neu"]),
            "neg": float(scores["neg"]),
        }

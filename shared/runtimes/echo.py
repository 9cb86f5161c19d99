"""``echo``: the output is the input."""

from collections.abc import Mapping, Sequence
from typing import Any

from shared.runtimes.base import RuntimeResult


class EchoRuntime:
    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        return [dict(item) for item in inputs]

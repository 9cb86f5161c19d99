"""``text``: a tokenizer-bundled ONNX model (a Hugging Face-style export) that embeds or classifies texts.

One input is ``{"text": str, "truncate"?: bool, "top_k"?: int}``. The text is tokenised with the archive's
own ``tokenizer.json``; a text longer than the model's ``max_tokens`` fails with ``input_too_long`` (naming
the limit) unless ``truncate`` is true. Outputs: feature extraction ``{"embedding": [float], "tokens": n}``
(pooled as registered: the mean over the tokens the attention mask keeps, the first token, or the graph's
own pooled output; L2-normalised when registered so); classification ``{"labels": [{"label", "score"}],
"tokens": n}``, the ``top_k`` best labels by score (softmax or sigmoid of the logits), best first. ``tokens``
counts the tokens the model read, special tokens included.

Texts of one call are sorted by length and run in micro-batches padded only to their longest member, of at
most ``MAX_BATCH_TOKENS`` (rows times padded length). As for ``onnx`` models, a lone text runs as two
identical rows, so its output is computed by the same kernels alone (sync) and in any micro-batch (worker).
Time limits follow ``OnnxRuntime``: a watchdog per run; a text stopped alone fails ``timeout``, one stopped
with others is ``Unfinished``.

``embed`` and ``classify`` are the same work for callers that answer a request as a whole (the embeddings
API): they raise ``TextInputError`` for the first text that cannot be run.
"""

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from shared.registry.text import Pooling, Task, TextSpec
from shared.registry.text_archives import TextArchive, read_text_archive
from shared.runtimes.base import INPUT_TOO_LONG, JsonObject, ModelFailure, RuntimeResult, Unfinished, timed_out
from shared.runtimes.sessions import RunTimedOutError, open_session, run_until
from shared.runtimes.tokenizing import Encoded, TextTokenizer

Array = npt.NDArray[Any]

FEEDS = ("input_ids", "attention_mask", "token_type_ids")
MAX_BATCH_TOKENS = 16384  # rows x padded length of one session run
MAX_BATCH_ROWS = 64
INVALID_INPUT = "invalid_input"
_RUN_FAILED = ModelFailure("model_error", "The model failed on this input.")
NON_FINITE = ModelFailure("model_error", "The model produced a non-finite number.")
NO_TOKENS = ModelFailure(INVALID_INPUT, "The text gives no tokens for this model.")
_INT_TYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}
_FLOAT_TYPES = frozenset({"tensor(float)", "tensor(float16)", "tensor(double)"})


class TextGraphError(Exception):
    """The graph does not fit the tokenizer or the task (the message is safe to show)."""


class TextInputError(Exception):
    """A text of an ``embed``/``classify`` call could not be run: ``index`` is its place, ``failure`` why."""

    def __init__(self, index: int, failure: ModelFailure | Unfinished) -> None:
        self.index = index
        self.failure = failure.as_failure() if isinstance(failure, Unfinished) else failure
        super().__init__(self.failure.message)


def too_long(tokens: int, limit: int) -> ModelFailure:
    return ModelFailure(
        INPUT_TOO_LONG,
        f"The text is {tokens:,} tokens long; this model takes at most {limit:,}. Send truncate: true to cut it.",
    )


@dataclass(frozen=True)
class GraphPlan:
    """What to feed the graph (input name -> integer dtype) and which output to read."""

    feeds: dict[str, Any]
    output: int
    output_name: str
    width: int | None  # the output's last dimension when the graph fixes it


def plan_graph(session: Any, task: Task, pooling: Pooling) -> GraphPlan:
    """Check the graph's inputs against what the tokenizer produces and pick the output the task reads."""
    feeds: dict[str, Any] = {}
    for arg in session.get_inputs():
        name = str(arg.name)
        if name not in FEEDS:
            raise TextGraphError(
                f"the graph takes input {name[:60]!r}, which the tokenizer does not produce "
                "(it gives input_ids, attention_mask and token_type_ids)"
            )
        if arg.type not in _INT_TYPES:
            raise TextGraphError(f"the graph's input {name!r} is {arg.type}; it must be int64 or int32")
        shape = list(arg.shape or [])
        if len(shape) != 2 or any(isinstance(dim, int) for dim in shape):
            raise TextGraphError(f"the graph's input {name!r} must be [batch, sequence], both dynamic")
        feeds[name] = _INT_TYPES[arg.type]
    if "input_ids" not in feeds:
        raise TextGraphError("the graph does not take input_ids")
    rank = 3 if task == "feature-extraction" and pooling != "model" else 2
    preferred = {
        "feature-extraction": ("last_hidden_state", "token_embeddings") if rank == 3 else ("sentence_embedding",),
        "text-classification": ("logits",),
    }[task]
    outputs = [(index, arg) for index, arg in enumerate(session.get_outputs()) if arg.type in _FLOAT_TYPES]
    fitting = [(index, arg) for index, arg in outputs if len(arg.shape or []) == rank]
    named = [(index, arg) for index, arg in fitting if arg.name in preferred]
    chosen = named[:1] or (fitting if len(fitting) == 1 else [])
    if not chosen:
        wanted = "[batch, sequence, dimension]" if rank == 3 else "[batch, width]"
        raise TextGraphError(
            f"the graph has no single float output {wanted} for {task}"
            + (f" (named {' or '.join(preferred)})" if len(fitting) > 1 else "")
        )
    index, arg = chosen[0]
    last = arg.shape[-1]
    return GraphPlan(feeds, index, str(arg.name), last if isinstance(last, int) and last > 0 else None)


class TextRuntime:
    def __init__(self, graph: bytes, tokenizer: str, spec: TextSpec) -> None:
        """The model from its checked ONNX graph and ``tokenizer.json``; raise ``TokenizerRefusedError``,
        ``SessionUnusableError`` or ``TextGraphError``."""
        self.spec = spec
        self._tokenizer = TextTokenizer(tokenizer, spec.max_tokens)
        self._session = open_session(graph)
        self.plan = plan_graph(self._session, spec.task, spec.pooling)

    @classmethod
    def from_archive(cls, archive: TextArchive, spec: TextSpec) -> "TextRuntime":
        return cls(archive.graph, archive.tokenizer, spec)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], spec: TextSpec) -> "TextRuntime":
        """A verified archive on disk (the loader checked its sha256)."""
        return cls.from_archive(read_text_archive(Path(path).read_bytes(), spec.task), spec)

    # The whole-request API (the embeddings route): every text must run, or the call raises.

    def embed(
        self, texts: Sequence[str], *, truncate: bool = False, timeout: float | None = None
    ) -> tuple[list[list[float]], list[int]]:
        """One vector per text and its token count; ``TextInputError`` for the first text that fails."""
        encoded = _tokenized(self._tokenizer.encode(texts, truncate))
        outcomes = self._outcomes(encoded, timeout)
        vectors = [self._vector(index, outcome) for index, outcome in enumerate(outcomes)]
        return vectors, [len(item.ids) for item in encoded]

    def classify(
        self, texts: Sequence[str], *, truncate: bool = False, top_k: int | None = None, timeout: float | None = None
    ) -> tuple[list[list[tuple[str, float]]], list[int]]:
        """The ``top_k`` best (label, score) per text, best first, and its token count."""
        encoded = _tokenized(self._tokenizer.encode(texts, truncate))
        outcomes = self._outcomes(encoded, timeout)
        ranked: list[list[tuple[str, float]]] = []
        for index, outcome in enumerate(outcomes):
            if not isinstance(outcome, np.ndarray):
                raise TextInputError(index, outcome)
            result = self._ranked(outcome, top_k or self.spec.top_k)
            if isinstance(result, ModelFailure):
                raise TextInputError(index, result)
            ranked.append(result)
        return ranked, [len(item.ids) for item in encoded]

    def _vector(self, index: int, outcome: Array | ModelFailure | Unfinished) -> list[float]:
        if not isinstance(outcome, np.ndarray):
            raise TextInputError(index, outcome)
        if not np.isfinite(outcome).all():
            raise TextInputError(index, NON_FINITE)
        vector: list[float] = outcome.tolist()
        return vector

    # The generic runtime API (workers, sync predict).

    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        results: list[RuntimeResult] = [_RUN_FAILED] * len(inputs)
        requests: dict[int, tuple[str, bool, int]] = {}
        for index, item in enumerate(inputs):
            parsed = self._request(item)
            if isinstance(parsed, ModelFailure):
                results[index] = parsed
            else:
                requests[index] = parsed
        encoded: dict[int, Encoded] = {}
        for truncate in (False, True):
            chosen = [index for index, (_, cut, _) in requests.items() if cut is truncate]
            texts = [requests[index][0] for index in chosen]
            for index, tokens in zip(chosen, self._tokenizer.encode(texts, truncate), strict=True):
                if isinstance(tokens, ModelFailure):
                    results[index] = tokens
                else:
                    encoded[index] = tokens
        order = sorted(encoded)
        outcomes = self._outcomes([encoded[index] for index in order], timeout)
        for index, outcome in zip(order, outcomes, strict=True):
            results[index] = self._result(outcome, len(encoded[index].ids), requests[index][2])
        return results

    def _request(self, item: Mapping[str, Any]) -> tuple[str, bool, int] | ModelFailure:
        if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
            return ModelFailure(INVALID_INPUT, "Each input must be an object with a 'text' string.")
        truncate = item.get("truncate", False)
        top_k = item.get("top_k", self.spec.top_k)
        if not isinstance(truncate, bool):
            return ModelFailure(INVALID_INPUT, "'truncate' must be true or false.")
        if self.spec.task == "text-classification" and (
            not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= len(self.spec.labels)
        ):
            return ModelFailure(INVALID_INPUT, f"'top_k' must be an integer from 1 to {len(self.spec.labels)}.")
        return item["text"], truncate, top_k

    def _result(self, outcome: Array | ModelFailure | Unfinished, tokens: int, top_k: int) -> RuntimeResult:
        if not isinstance(outcome, np.ndarray):
            return outcome
        if self.spec.task == "feature-extraction":
            if not np.isfinite(outcome).all():
                return NON_FINITE
            return {"embedding": outcome.tolist(), "tokens": tokens}
        ranked = self._ranked(outcome, top_k)
        if isinstance(ranked, ModelFailure):
            return ranked
        labels: JsonObject = {"labels": [{"label": label, "score": score} for label, score in ranked]}
        return {**labels, "tokens": tokens}

    def _ranked(self, logits: Array, top_k: int) -> list[tuple[str, float]] | ModelFailure:
        if not np.isfinite(logits).all():
            return NON_FINITE
        values = logits.astype(np.float64)
        if self.spec.activation == "softmax":
            exp = np.exp(values - values.max())
            scores = exp / exp.sum()
        else:
            scores = 1.0 / (1.0 + np.exp(-values))
        order = np.argsort(-scores, kind="stable")[:top_k]
        return [(self.spec.labels[int(i)], float(scores[int(i)])) for i in order]

    # Running: sorted by length, padded to each micro-batch's longest member.

    def _outcomes(self, encoded: Sequence[Encoded], timeout: float | None) -> list[Array | ModelFailure | Unfinished]:
        """Per text: its pooled vector (or logits) as float32, or why it has none."""
        deadline = None if timeout is None else time.monotonic() + timeout
        outcomes: list[Array | ModelFailure | Unfinished] = [_RUN_FAILED] * len(encoded)
        runnable: list[int] = []
        for index, item in enumerate(encoded):
            if len(item.ids) > self.spec.max_tokens:
                outcomes[index] = too_long(len(item.ids), self.spec.max_tokens)
            elif not item.ids:
                outcomes[index] = NO_TOKENS
            else:
                runnable.append(index)
        ran_before = False
        lengths = [len(item.ids) for item in encoded]
        for chunk in _chunks(sorted(runnable, key=lambda index: lengths[index]), lengths):
            values: list[Array | ModelFailure | Unfinished]
            try:
                values = list(self._run_isolating([encoded[index] for index in chunk], deadline))
            except RunTimedOutError:
                assert timeout is not None
                alone = len(chunk) == 1 and not ran_before
                values = [timed_out(timeout) if alone else Unfinished(timeout)] * len(chunk)
            ran_before = True
            for index, value in zip(chunk, values, strict=True):
                outcomes[index] = value
        return outcomes

    def _run_isolating(self, batch: list[Encoded], deadline: float | None) -> list[Array | ModelFailure]:
        """Run together; if that fails (not by time), run one by one so only the bad ones fail."""
        try:
            return list(self.run_encoded(batch, deadline))
        except RunTimedOutError:
            raise
        except Exception:  # noqa: BLE001 - onnxruntime raises plain Exception subclasses
            if len(batch) == 1:
                return [_RUN_FAILED]
        return [value for item in batch for value in self._run_isolating([item], deadline)]

    def run_encoded(self, batch: Sequence[Encoded], deadline: float | None) -> Array:
        """One session run of these texts, padded to the longest: ``[len(batch), width]`` float32."""
        rows = list(batch) * 2 if len(batch) == 1 else list(batch)  # a lone text: the kernels of a batch
        length = max(len(item.ids) for item in rows)
        ids = np.full((len(rows), length), self._tokenizer.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.int64)
        types = np.zeros((len(rows), length), dtype=np.int64)
        for row, item in enumerate(rows):
            ids[row, : len(item.ids)] = item.ids
            mask[row, : len(item.ids)] = 1
            types[row, : len(item.type_ids)] = item.type_ids
        given = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        feeds = {name: given[name].astype(dtype) for name, dtype in self.plan.feeds.items()}
        output = np.asarray(run_until(self._session, feeds, deadline)[self.plan.output])
        return self._pool(output, mask)[: len(batch)]

    def _pool(self, output: Array, mask: Array) -> Array:
        rank = 3 if self.spec.task == "feature-extraction" and self.spec.pooling != "model" else 2
        if output.ndim != rank or output.shape[0] != mask.shape[0] or (rank == 3 and output.shape[1] != mask.shape[1]):
            raise TextGraphError(f"the graph's output {self.plan.output_name!r} has shape {list(output.shape)}")
        values = output.astype(np.float64)
        if rank == 3:
            if self.spec.pooling == "cls":
                values = values[:, 0, :]
            else:
                weights = mask[:, :, None].astype(np.float64)
                values = (values * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        if self.spec.task == "feature-extraction" and self.spec.normalize:
            norms = np.linalg.norm(values, axis=1, keepdims=True)
            values = values / np.maximum(norms, 1e-12)
        pooled: Array = values.astype(np.float32)
        return pooled

    def filler(self, tokens: int) -> Encoded:
        """A generated input of ``tokens`` tokens of ordinary text (registration's trial run)."""
        return Encoded([self._tokenizer.filler_id()] * tokens, [0] * tokens)


def _tokenized(encoded: Sequence[Encoded | ModelFailure]) -> list[Encoded]:
    """Every text's tokens, or ``TextInputError`` for the first text the tokenizer failed on."""
    for index, item in enumerate(encoded):
        if isinstance(item, ModelFailure):
            raise TextInputError(index, item)
    return [item for item in encoded if isinstance(item, Encoded)]


def _chunks(order: list[int], lengths: Sequence[int]) -> list[list[int]]:
    """Consecutive runs of the length-sorted texts ``order``, each within ``MAX_BATCH_ROWS`` rows and
    ``MAX_BATCH_TOKENS`` (its row count times its longest member, which is its last)."""
    chunks: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current and (len(current) >= MAX_BATCH_ROWS or (len(current) + 1) * lengths[index] > MAX_BATCH_TOKENS):
            chunks.append(current)
            current = []
        current.append(index)
    return [*chunks, current] if current else chunks

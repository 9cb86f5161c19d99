"""The text runtime on the tiny model the tests build: pooling, classification, truncation, batching, limits."""

import base64
import json
from dataclasses import replace
from typing import Any

import pytest

from shared.registry.text import TextSpec
from shared.registry.text_archives import read_text_archive
from shared.runtimes import sessions, tokenizing
from shared.runtimes import text as text_module
from shared.runtimes.base import ModelFailure, Unfinished
from shared.runtimes.text import TextInputError, TextRuntime
from shared.runtimes.tokenizing import TokenizerRefusedError, check_patterns
from tests.support.text_models import (
    LABELS,
    MAX_POSITIONS,
    expected_embedding,
    expected_scores,
    files,
    tar_gz,
    token_count,
)

EMBEDDINGS = TextSpec("feature-extraction", MAX_POSITIONS, dimension=8)
CLASSIFIER = TextSpec("text-classification", MAX_POSITIONS, labels=LABELS, top_k=1)
SENTENCE = "The cat sat on the mat."
UNICODE = "Über café: 日本語, naïve 😀 résumé"
LONG = "the cat sat on the mat " * 500  # 11,500 characters


def _runtime(spec: TextSpec = EMBEDDINGS, token_types: bool = False) -> TextRuntime:
    return TextRuntime.from_archive(read_text_archive(tar_gz(files(spec.task, token_types)), spec.task), spec)


def _close(got: list[float], want: list[float]) -> bool:
    return got == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("token_types", [False, True])
@pytest.mark.parametrize(("pooling", "normalize"), [("mean", False), ("cls", False), ("mean", True)])
def test_embeddings_are_pooled_as_registered(pooling: str, normalize: bool, token_types: bool) -> None:
    runtime = _runtime(replace(EMBEDDINGS, pooling=pooling, normalize=normalize), token_types)  # type: ignore[arg-type]

    [result] = runtime.predict([{"text": SENTENCE}])

    assert isinstance(result, dict)
    assert _close(result["embedding"], expected_embedding(SENTENCE, pooling, normalize, token_types=token_types))
    assert result["tokens"] == token_count(SENTENCE) == 9


def test_unicode_and_empty_texts_embed_with_their_token_counts() -> None:
    runtime = _runtime()

    unicode, empty = runtime.predict([{"text": UNICODE}, {"text": ""}])

    assert isinstance(unicode, dict)
    assert isinstance(empty, dict)
    assert _close(unicode["embedding"], expected_embedding(UNICODE))
    assert unicode["tokens"] == token_count(UNICODE)
    assert _close(empty["embedding"], expected_embedding(""))  # [CLS] [SEP]
    assert empty["tokens"] == 2


def test_a_text_over_the_limit_fails_naming_it_unless_truncated() -> None:
    runtime = _runtime()

    refused, cut = runtime.predict([{"text": LONG}, {"text": LONG, "truncate": True}])

    assert refused == ModelFailure(
        "input_too_long",
        f"The text is {token_count(LONG):,} tokens long; this model takes at most 32. Send truncate: true to cut it.",
    )
    assert isinstance(cut, dict)
    assert cut["tokens"] == MAX_POSITIONS
    assert _close(cut["embedding"], expected_embedding(LONG, truncate=True))


def test_a_text_exactly_at_the_limit_runs_without_truncation() -> None:
    text = "cat " * (MAX_POSITIONS - 2)  # with [CLS] and [SEP]: exactly the limit

    [result] = _runtime().predict([{"text": text}])

    assert isinstance(result, dict)
    assert result["tokens"] == MAX_POSITIONS


def test_a_micro_batch_gives_each_text_what_it_gets_alone() -> None:
    runtime = _runtime()
    texts = [SENTENCE, UNICODE, "", "dog", LONG[:300], "hello world " * 10]
    inputs: list[dict[str, Any]] = [{"text": text, "truncate": True} for text in texts]

    together = runtime.predict(inputs)
    alone = [runtime.predict([item])[0] for item in inputs]

    for batched, single in zip(together, alone, strict=True):
        assert isinstance(batched, dict)
        assert isinstance(single, dict)
        assert batched["tokens"] == single["tokens"]
        assert _close(batched["embedding"], single["embedding"])


def test_texts_run_sorted_by_length_in_runs_padded_to_their_longest(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = _runtime()
    shapes: list[tuple[int, int]] = []
    real = sessions.run_until

    def recording(session: Any, feeds: dict[str, Any], deadline: float | None) -> Any:
        shapes.append(feeds["input_ids"].shape)
        return real(session, feeds, deadline)

    monkeypatch.setattr(text_module, "run_until", recording)
    monkeypatch.setattr(text_module, "MAX_BATCH_TOKENS", 40)
    texts = ["cat " * 12, "cat", "cat " * 5, "cat cat"]  # 14, 3, 7 and 4 tokens

    runtime.predict([{"text": text} for text in texts])

    # Sorted: 3, 4, 7 (3 rows x 7 = 21 tokens), then 14 alone (4 x 14 = 56 would pass 40), run as two rows.
    assert shapes == [(3, 7), (2, 14)]


def test_the_classifier_ranks_its_labels_best_first() -> None:
    runtime = _runtime(CLASSIFIER)
    scores = expected_scores(SENTENCE)
    best_first = sorted(LABELS, key=lambda label: -scores[label])

    default, all_three = runtime.predict([{"text": SENTENCE}, {"text": SENTENCE, "top_k": 3}])

    assert isinstance(default, dict)
    assert isinstance(all_three, dict)
    assert [entry["label"] for entry in default["labels"]] == best_first[:1]
    assert [entry["label"] for entry in all_three["labels"]] == best_first
    assert [entry["score"] for entry in all_three["labels"]] == pytest.approx(
        [scores[label] for label in best_first], abs=1e-6
    )
    assert sum(entry["score"] for entry in all_three["labels"]) == pytest.approx(1.0)
    assert all_three["tokens"] == 9


def test_a_sigmoid_classifier_scores_each_label_on_its_own() -> None:
    runtime = _runtime(replace(CLASSIFIER, activation="sigmoid", top_k=3))
    scores = expected_scores(UNICODE, "sigmoid")

    [result] = runtime.predict([{"text": UNICODE}])

    assert isinstance(result, dict)
    assert {entry["label"]: entry["score"] for entry in result["labels"]} == pytest.approx(scores, abs=1e-6)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"text": 3}, "Each input must be an object with a 'text' string."),
        ({"words": "x"}, "Each input must be an object with a 'text' string."),
        ({"text": "x", "truncate": "yes"}, "'truncate' must be true or false."),
        ({"text": "x", "top_k": 4}, "'top_k' must be an integer from 1 to 3."),
        ({"text": "x", "top_k": True}, "'top_k' must be an integer from 1 to 3."),
    ],
)
def test_malformed_inputs_fail_alone(item: dict[str, Any], message: str) -> None:
    bad, good = _runtime(CLASSIFIER).predict([item, {"text": SENTENCE}])

    assert bad == ModelFailure("invalid_input", message)
    assert isinstance(good, dict)


def test_embed_and_classify_answer_a_request_as_a_whole() -> None:
    embedder = _runtime()
    classifier = _runtime(CLASSIFIER)

    vectors, counts = embedder.embed([SENTENCE, ""])
    ranked, classified = classifier.classify([SENTENCE], top_k=2)
    with pytest.raises(TextInputError) as too_long:
        embedder.embed([SENTENCE, LONG])
    truncated, _ = embedder.embed([LONG], truncate=True)

    assert _close(vectors[0], expected_embedding(SENTENCE))
    assert counts == [9, 2]
    assert [label for label, _ in ranked[0]] == sorted(LABELS, key=lambda label: -expected_scores(SENTENCE)[label])[:2]
    assert classified == [9]
    assert too_long.value.index == 1
    assert too_long.value.failure.code == "input_too_long"
    assert "at most 32" in str(too_long.value)
    assert _close(truncated[0], expected_embedding(LONG, truncate=True))


def test_a_call_out_of_time_fails_a_lone_text_and_leaves_shared_ones_unfinished(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = _runtime()

    def stopped(session: Any, feeds: dict[str, Any], deadline: float | None) -> Any:
        raise sessions.RunTimedOutError

    monkeypatch.setattr(text_module, "run_until", stopped)

    [alone] = runtime.predict([{"text": SENTENCE}], timeout=2)
    shared = runtime.predict([{"text": SENTENCE}, {"text": "dog"}], timeout=2)

    assert isinstance(alone, ModelFailure)
    assert alone.code == "timeout"
    assert shared == [Unfinished(2), Unfinished(2)]


@pytest.mark.parametrize("pattern", ["(a+)+$", "(ab|cd)*x", r"(\w)\1", r"\p{L}+", "x" * 600])
def test_tokenizers_with_regular_expressions_that_could_run_forever_are_refused(pattern: str) -> None:
    with pytest.raises(TokenizerRefusedError):
        check_patterns({"normalizer": {"type": "Replace", "pattern": {"Regex": pattern}, "content": " "}})


@pytest.mark.parametrize("pattern", [" {2,}", r"\s+", r"'s|'t| ?\w+| ?\d+|\s+(?!\S)|\s+"])
def test_ordinary_tokenizer_patterns_pass(pattern: str) -> None:
    check_patterns({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": pattern}}})


@pytest.mark.parametrize(
    "pattern",
    [
        r"\w*\w*\w*\w*[^\w\s]",  # the hostile re-test's pattern: polynomial of degree 4, then a library panic
        r"\w*\w+",
        r"(\w*)(\w+)x",
        r"x|\w+ ?\w*",
        r"\w+(?=\w*x)",
        r"\w{0,1000}\w{0,1000}",
        r"(?:a|\w*)\w+",
    ],
)
def test_back_to_back_unbounded_repetitions_are_refused(pattern: str) -> None:
    with pytest.raises(TokenizerRefusedError, match="more than one unbounded repetition"):
        check_patterns({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": pattern}}})


@pytest.mark.parametrize(
    "pattern",
    [
        r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+",  # GPT-2's, without \p{..}
        " {2,}",  # XLM-R's
        r"\d{1,3}| ?\w+",
        r"[\r\n]|\s+(?!\S)",
    ],
)
def test_real_tokenizers_patterns_with_one_repetition_per_alternative_pass(pattern: str) -> None:
    check_patterns({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": pattern}}})


@pytest.mark.parametrize("pattern", [r"\w*[^\w\s]", r"\w+$", r"(\w+)x", r"(?=\w+x)", r"x|(?:\w+|y)z"])
def test_an_unbounded_repetition_followed_by_something_required_is_refused(pattern: str) -> None:
    """``\\w*[^\\w\\s]`` took 43 s on "a" * 100,000: quadratic backtracking from every start."""
    with pytest.raises(TokenizerRefusedError, match="followed by something it requires"):
        check_patterns({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": pattern}}})


def _hostile_split_runtime(monkeypatch: pytest.MonkeyPatch) -> TextRuntime:
    """A tokenizer whose pattern makes the library panic (Oniguruma's retry limit), let past the check."""
    monkeypatch.setattr(tokenizing, "check_patterns", lambda document: None)
    members = files()
    document = json.loads(members["tokenizer.json"])
    pattern = r"\w*\w*\w*\w*\w*\w*[^\w\s]"
    document["pre_tokenizer"] = {
        "type": "Split",
        "pattern": {"Regex": pattern},
        "behavior": "Isolated",
        "invert": False,
    }
    members["tokenizer.json"] = json.dumps(document).encode()
    return TextRuntime.from_archive(read_text_archive(tar_gz(members), "feature-extraction"), EMBEDDINGS)


def test_a_tokenizer_panic_fails_only_its_text(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = _hostile_split_runtime(monkeypatch)

    panics, fine = runtime.predict([{"text": "a" * 200}, {"text": "cat!"}])
    with pytest.raises(TextInputError) as failed:
        runtime.embed(["cat!", "a" * 200])

    assert panics == tokenizing.TOKENIZING_FAILED
    assert isinstance(fine, dict)
    assert len(fine["embedding"]) == EMBEDDINGS.dimension
    assert (failed.value.index, failed.value.failure) == (1, tokenizing.TOKENIZING_FAILED)


def _replace(content: str, pattern: dict[str, str] | None = None) -> dict[str, Any]:
    return {"type": "Replace", "pattern": pattern or {"String": "~"}, "content": content}


@pytest.mark.parametrize(
    ("normalizer", "needle"),
    [
        ({"type": "Sequence", "normalizers": [_replace("~" * 100)] * 3}, "Replace normalizer turns '~' into 100"),
        ({"type": "Sequence", "normalizers": [_replace("~~~~")] * 4}, "Sequence can turn one character into more"),
        (_replace("x" * 70, {"Regex": "~"}), "Replace normalizer turns '~' into 70"),
        ({"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "NFKD"}]}, "into more than 64"),
        ({"type": "Prepend", "prepend": "x" * 100}, "can turn one character into 101"),
        ({"type": "Mystery"}, "normalizer this service cannot bound ('Mystery')"),
    ],
)
def test_normalizers_that_multiply_a_text_are_refused(normalizer: dict[str, Any], needle: str) -> None:
    with pytest.raises(TokenizerRefusedError) as refused:
        tokenizing.check_expansion({"normalizer": normalizer})

    assert needle in str(refused.value)


@pytest.mark.parametrize(
    ("normalizer", "factor"),
    [
        (None, 1),
        ({"type": "BertNormalizer", "lowercase": True}, 8),
        ({"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, _replace("▁", {"String": " "})]}, 2),
        ({"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "StripAccents"}, {"type": "Lowercase"}]}, 36),
        (_replace('"', {"String": "``"}), 1),
    ],
)
def test_real_normalizers_pass_with_their_expansion_bound(normalizer: dict[str, Any] | None, factor: int) -> None:
    assert tokenizing.check_expansion({"normalizer": normalizer}) == factor


def test_a_text_over_the_normalised_budget_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokenizing, "MAX_NORMALIZED_CHARS", 8 * 100)  # the test tokenizer's factor is 8
    runtime = _runtime()

    long, short = runtime.predict([{"text": "a " * 60}, {"text": SENTENCE}])

    assert isinstance(long, ModelFailure)
    assert (long.code, long.message) == (
        "input_too_long",
        "The text is 120 characters long; this model reads at most 100.",
    )
    assert isinstance(short, dict)
    assert short["tokens"] == token_count(SENTENCE)


def _precompiled(*replacements: str) -> dict[str, Any]:
    trie = b"\x01\x00\x00\x00"  # a 4-byte trie, then the NUL-separated replacements
    blob = len(trie).to_bytes(4, "little") + trie + b"\x00".join(item.encode() for item in replacements)
    return {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(blob).decode()}


def test_a_sentencepiece_character_map_is_bounded_by_its_longest_replacement() -> None:
    assert tokenizing.check_expansion({"normalizer": _precompiled("a", "ﬃ", "abc")}) == 3
    with pytest.raises(TokenizerRefusedError, match="into 100"):
        tokenizing.check_expansion({"normalizer": _precompiled("a", "x" * 100)})
    with pytest.raises(TokenizerRefusedError, match="without a readable character map"):
        tokenizing.check_expansion({"normalizer": {"type": "Precompiled", "precompiled_charsmap": "!!"}})

"""What a text model's JSON files say: its labels (``config.json`` ``id2label``) and its longest input.

Pure JSON reading, shared by registration (the inspector) and the runtime, so both derive the same facts.
"""

import re
from collections.abc import Mapping
from typing import Any

from shared.registry.text import MAX_LABEL_CHARS, MAX_LABELS, MAX_TOKENS_CAP, TextOptions

_UNLIMITED = 1_000_000  # transformers writes 1e30 as model_max_length when it knows no limit


class TextConfigError(Exception):
    """The model's files do not describe a usable text model (the message is safe to show)."""


def labels_of(config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """``id2label`` as a tuple in output order: its keys must be exactly 0..n-1."""
    if config is None or not isinstance(config.get("id2label"), dict) or not config["id2label"]:
        raise TextConfigError("config.json has no id2label naming the classifier's labels")
    raw: dict[Any, Any] = config["id2label"]
    if len(raw) > MAX_LABELS:
        raise TextConfigError(f"config.json id2label has {len(raw):,} labels; at most {MAX_LABELS:,} are allowed")
    by_index: dict[int, str] = {}
    for key, label in raw.items():
        if not isinstance(key, str) or re.fullmatch(r"0|[1-9][0-9]{0,5}", key) is None:
            raise TextConfigError("config.json id2label keys must be the output indexes 0, 1, 2 ...")
        if not isinstance(label, str) or not 1 <= len(label) <= MAX_LABEL_CHARS or not label.isprintable():
            raise TextConfigError(
                f"config.json id2label values must be printable text of 1-{MAX_LABEL_CHARS} characters"
            )
        by_index[int(key)] = label
    if sorted(by_index) != list(range(len(by_index))):
        raise TextConfigError("config.json id2label keys must be the output indexes 0, 1, 2 ... without gaps")
    if len(set(by_index.values())) != len(by_index):
        raise TextConfigError("config.json id2label names a label twice")
    return tuple(by_index[index] for index in range(len(by_index)))


def classifier_labels(options: TextOptions, config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """A classifier's labels, once they suit its declared ``activation`` and ``top_k``."""
    labels = labels_of(config)
    if options.activation == "softmax" and len(labels) < 2:
        raise TextConfigError("a softmax classifier needs at least 2 labels (use sigmoid for one)")
    if options.top_k > len(labels):
        raise TextConfigError(f"top_k {options.top_k} is more than its {len(labels)} labels")
    return labels


def max_tokens_of(
    options: TextOptions,
    tokenizer: Mapping[str, Any],
    tokenizer_config: Mapping[str, Any] | None,
    config: Mapping[str, Any] | None,
) -> int:
    """The longest input (in tokens, special tokens included): the least of what the files say, lowered by
    the declared ``max_tokens``; at most ``MAX_TOKENS_CAP``."""
    found: dict[str, int] = {}
    truncation = tokenizer.get("truncation")
    if isinstance(truncation, dict) and _length(truncation.get("max_length")):
        found["tokenizer.json truncation.max_length"] = truncation["max_length"]
    if tokenizer_config is not None and _length(tokenizer_config.get("model_max_length")):
        found["tokenizer_config.json model_max_length"] = tokenizer_config["model_max_length"]
    if config is not None and _length(config.get("max_position_embeddings")):
        found["config.json max_position_embeddings"] = config["max_position_embeddings"]
    if not found and options.max_tokens is None:
        raise TextConfigError(
            "its files do not say how many tokens the model takes (tokenizer_config.json model_max_length or "
            "config.json max_position_embeddings); declare text.max_tokens"
        )
    least = min(found.items(), key=lambda item: item[1]) if found else None
    if least is not None and options.max_tokens is not None and options.max_tokens > least[1]:
        raise TextConfigError(f"max_tokens {options.max_tokens} is more than {least[0]} ({least[1]}) allows")
    chosen = options.max_tokens if options.max_tokens is not None else least[1] if least is not None else 0
    return min(chosen, MAX_TOKENS_CAP)


def _length(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < _UNLIMITED

"""Registration's checks of a text model's archive: everything a ``TextRuntime`` will rely on, proven once.

In order: the archive is safe and complete (``shared.registry.text_archives``); the graph keeps no external
data; ``tokenizer.json`` loads (``Tokenizer.from_str``) with only checkable regular expressions; the labels
(classification) and the longest input come from the model's JSON files; the graph takes only what the
tokenizer produces and has the output the task reads; then the model runs, within the registration time
limit, on a generated input as long as the recorded maximum and on a real sentence, and its output's width
gives the embedding's dimension or must equal the number of labels.
"""

import time
from dataclasses import replace

from shared.registry.text import TextOptions, TextSpec
from shared.registry.text_archives import ArchiveRefusedError, TextArchive, read_text_archive
from shared.registry.text_config import TextConfigError, classifier_labels, max_tokens_of
from shared.runtimes.base import ModelFailure, Unfinished
from shared.runtimes.external_data import UnreadableModelError, graph_has_external_data
from shared.runtimes.sessions import RunTimedOutError, SessionUnusableError
from shared.runtimes.text import TextGraphError, TextRuntime
from shared.runtimes.tokenizing import TokenizerRefusedError, tokenizer_json

SAMPLE = "Infergate checks that this model runs."
NOT_A_GRAPH = "its .onnx file is not an ONNX model this runtime can load"
EXTERNAL_DATA = (
    "its graph keeps tensor data in external files; save it with every tensor inside the .onnx file "
    "(onnx.save_model(model, path, save_as_external_data=False))"
)


class TextModelRefusedError(Exception):
    """Why the archive is not a usable text model (safe to show the registrant)."""


def inspect_text_archive(data: bytes, options: TextOptions, seconds: float) -> TextSpec:
    """The text model's recorded facts; raise ``TextModelRefusedError`` with the first reason it is unusable."""
    try:
        archive = read_text_archive(data, options.task)
        spec = _declared_spec(archive, options)
        runtime = TextRuntime.from_archive(archive, spec)
    except (ArchiveRefusedError, TextConfigError, TokenizerRefusedError, TextGraphError) as refused:
        raise TextModelRefusedError(str(refused)) from None
    except SessionUnusableError:
        raise TextModelRefusedError(NOT_A_GRAPH) from None
    width = _trial_width(runtime, seconds)
    if runtime.plan.width is not None and runtime.plan.width != width:
        raise TextModelRefusedError(
            f"its output {runtime.plan.output_name!r} declares width {runtime.plan.width} but gave {width}"
        )
    if spec.task == "text-classification":
        if width != len(spec.labels):
            raise TextModelRefusedError(
                f"its output {runtime.plan.output_name!r} has {width} columns, "
                f"but config.json id2label names {len(spec.labels)} labels"
            )
        return spec
    return replace(spec, dimension=width)


def _declared_spec(archive: TextArchive, options: TextOptions) -> TextSpec:
    try:
        if graph_has_external_data(archive.graph):
            raise TextModelRefusedError(EXTERNAL_DATA)
    except UnreadableModelError:
        raise TextModelRefusedError(NOT_A_GRAPH) from None
    document = tokenizer_json(archive.tokenizer)
    max_tokens = max_tokens_of(options, document, archive.tokenizer_config, archive.config)
    if options.task == "feature-extraction":
        return TextSpec(options.task, max_tokens, pooling=options.pooling, normalize=options.normalize)
    labels = classifier_labels(options, archive.config)
    return TextSpec(options.task, max_tokens, activation=options.activation, top_k=options.top_k, labels=labels)


def _trial_width(runtime: TextRuntime, seconds: float) -> int:
    """Run the longest input the model will take, then a real sentence; the output's width."""
    longest = runtime.spec.max_tokens
    what = f"a generated input of {longest} tokens (the most it will be given)"
    deadline = time.monotonic() + seconds
    try:
        width = int(runtime.run_encoded([runtime.filler(longest)], deadline).shape[1])
    except RunTimedOutError:
        raise TextModelRefusedError(f"it did not finish a run on {what} within {seconds:g} s") from None
    except Exception:  # noqa: BLE001 - onnxruntime raises plain Exceptions; the graph is the tenant's
        raise TextModelRefusedError(
            f"it failed to run on {what}; declare a lower text.max_tokens if the graph takes fewer"
        ) from None
    [outcome] = runtime.predict([{"text": SAMPLE}], timeout=max(deadline - time.monotonic(), 0.001))
    if isinstance(outcome, Unfinished) or (isinstance(outcome, ModelFailure) and outcome.code == "timeout"):
        raise TextModelRefusedError(f"it did not finish a run on a short sentence within {seconds:g} s")
    if isinstance(outcome, ModelFailure):
        raise TextModelRefusedError(f"it failed to run on a short sentence ({outcome.message})")
    return width

"""Registration's checks of a text model's archive: what is recorded, and each mismatch refused with its reason."""

import json
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from shared.registry.text import TextOptions
from shared.runtimes.text_checks import TextModelRefusedError, inspect_text_archive
from tests.support.onnx_models import IR_VERSION, OPSET, external_data_model, loop_model
from tests.support.text_models import DIM, LABELS, MAX_POSITIONS, config, files, graph, tar_gz, zip_archive

EMBED = TextOptions("feature-extraction")
CLASSIFY = TextOptions("text-classification", top_k=2)


def _refused(members: dict[str, bytes], options: TextOptions, needle: str, seconds: float = 10) -> None:
    with pytest.raises(TextModelRefusedError) as refused:
        inspect_text_archive(tar_gz(members), options, seconds)
    assert needle in str(refused.value)


def _with(task: str = "feature-extraction", **changed: Any) -> dict[str, bytes]:
    members = files(task)
    for name, value in changed.items():
        member = name.replace("__", ".")
        if value is None:
            del members[member]
        else:
            members[member] = value if isinstance(value, bytes) else json.dumps(value).encode()
    return members


def test_an_embedding_model_records_its_dimension_and_maximum_length() -> None:
    spec = inspect_text_archive(zip_archive(files()), TextOptions("feature-extraction", "cls", True), 10)

    assert (spec.task, spec.dimension, spec.max_tokens, spec.pooling, spec.normalize) == (
        "feature-extraction",
        DIM,
        MAX_POSITIONS,
        "cls",
        True,
    )


def test_a_classifier_records_its_labels_in_output_order() -> None:
    spec = inspect_text_archive(tar_gz(files("text-classification")), CLASSIFY, 10)

    assert (spec.labels, spec.top_k, spec.activation, spec.dimension) == (LABELS, 2, "softmax", None)


def test_the_least_length_the_files_state_wins_and_a_declared_one_may_lower_it() -> None:
    members = _with(
        tokenizer_config__json={"model_max_length": 1e30}, config__json={**config(), "max_position_embeddings": 20}
    )

    assert inspect_text_archive(tar_gz(members), EMBED, 10).max_tokens == 20
    assert inspect_text_archive(tar_gz(files()), TextOptions("feature-extraction", max_tokens=16), 10).max_tokens == 16


@pytest.mark.parametrize(
    ("members", "options", "needle"),
    [
        (
            _with(config__json={**config(), "max_position_embeddings": 64}, tokenizer_config__json=None),
            EMBED,
            "it failed to run on a generated input of 64 tokens",
        ),
        (
            _with(config__json={"model_type": "bert"}, tokenizer_config__json=None),
            EMBED,
            "declare text.max_tokens",
        ),
        (_with(), TextOptions("feature-extraction", max_tokens=40), "max_tokens 40 is more than"),
        (_with(model__onnx=external_data_model()), EMBED, "keeps tensor data in external files"),
        (_with(model__onnx=b"not a graph"), EMBED, "is not an ONNX model"),
        (_with(model__onnx=loop_model(3)), EMBED, "the graph takes input 'x', which the tokenizer does not produce"),
        (_with(tokenizer__json=b'{"version": "1.0"}'), EMBED, "not a tokenizer the tokenizers library can load"),
        (_with(tokenizer__json=b"[]"), EMBED, "tokenizer.json is not a JSON object"),
        (_with(model__onnx=graph("text-classification")), EMBED, "no single float output [batch, sequence, dimension]"),
        (_with("text-classification", model__onnx=graph()), CLASSIFY, "no single float output [batch, width]"),
        (
            _with("text-classification", config__json=config("text-classification", ("a", "b", "c", "d"))),
            CLASSIFY,
            "has 3 columns, but config.json id2label names 4 labels",
        ),
        (
            _with("text-classification", config__json={**config(), "id2label": {"0": "a", "2": "b"}}),
            CLASSIFY,
            "without gaps",
        ),
        (_with("text-classification", config__json=config()), CLASSIFY, "has no id2label"),
        (
            _with("text-classification", config__json=config("text-classification", ("only",))),
            TextOptions("text-classification"),
            "a softmax classifier needs at least 2 labels",
        ),
        (_with("text-classification"), TextOptions("text-classification", top_k=4), "top_k 4 is more than its 3"),
    ],
)
def test_an_archive_that_does_not_fit_is_refused_with_its_reason(
    members: dict[str, bytes], options: TextOptions, needle: str
) -> None:
    _refused(members, options, needle)


def _graph_with_inputs(names: list[str], seq: Any = "sequence") -> bytes:
    """The embedding graph's shape with other inputs: the first is looked up; the others are added to it."""
    nodes = [helper.make_node("Gather", ["words", names[0]], ["hidden"])]
    for extra in names[1:]:
        nodes += [
            helper.make_node("Cast", [extra], [f"{extra}_f"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", [f"{extra}_f", "axis"], [f"{extra}_3"]),
            helper.make_node("Add", ["hidden", f"{extra}_3"], [f"hidden_{extra}"]),
        ]
    nodes.append(helper.make_node("Identity", [nodes[-1].output[0]], ["last_hidden_state"]))
    model = helper.make_model(
        helper.make_graph(
            nodes,
            "inputs",
            [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", seq]) for name in names],
            [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", seq, DIM])],
            initializer=[
                numpy_helper.from_array(np.ones((40, DIM), dtype=np.float32), "words"),
                numpy_helper.from_array(np.array([2], dtype=np.int64), "axis"),
            ],
        ),
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized


def test_graph_inputs_must_be_what_the_tokenizer_produces() -> None:
    _refused(_with(model__onnx=_graph_with_inputs(["input_ids", "position_ids"])), EMBED, "takes input 'position_ids'")
    _refused(_with(model__onnx=_graph_with_inputs(["attention_mask"])), EMBED, "does not take input_ids")
    _refused(_with(model__onnx=_graph_with_inputs(["input_ids"], seq=16)), EMBED, "both dynamic")


def test_a_graph_with_only_input_ids_or_with_token_type_ids_is_accepted() -> None:
    assert (
        inspect_text_archive(tar_gz(_with(model__onnx=_graph_with_inputs(["input_ids"]))), EMBED, 10).dimension == DIM
    )
    three = _graph_with_inputs(["input_ids", "attention_mask", "token_type_ids"])
    assert inspect_text_archive(tar_gz(_with(model__onnx=three)), EMBED, 10).dimension == DIM


def test_a_tokenizer_with_a_pattern_that_could_run_forever_is_refused() -> None:
    document = json.loads(files()["tokenizer.json"])
    document["normalizer"] = {"type": "Replace", "pattern": {"Regex": "(a+)+$"}, "content": ""}

    _refused(_with(tokenizer__json=json.dumps(document).encode()), EMBED, "nested repetition")


def test_an_archive_refusal_is_a_refusal_of_the_model() -> None:
    _refused(_with(run__sh=b"echo"), EMBED, "'run.sh' is not part of a text model")


def test_a_model_that_does_not_finish_in_time_is_refused() -> None:
    _refused(
        files(),
        EMBED,
        "did not finish a run on a generated input of 32 tokens (the most it will be given) within 1e-09 s",
        seconds=1e-9,
    )


@pytest.mark.parametrize(
    ("changed", "needle"),
    [
        (
            {"pre_tokenizer": {"type": "Split", "pattern": {"Regex": r"\w*\w*\w*\w*[^\w\s]"}, "behavior": "Isolated"}},
            "more than one unbounded repetition",
        ),
        (
            {
                "normalizer": {
                    "type": "Sequence",
                    "normalizers": [{"type": "Replace", "pattern": {"String": "~"}, "content": "~" * 100}] * 3,
                }
            },
            "Replace normalizer turns '~' into 100 characters",
        ),
    ],
)
def test_hostile_tokenizers_are_refused_at_registration(changed: dict[str, Any], needle: str) -> None:
    document = {**json.loads(files()["tokenizer.json"]), **changed}

    _refused(_with(tokenizer__json=document), EMBED, needle)

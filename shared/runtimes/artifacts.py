"""Model files on local disk (``/tmp`` in Lambda), each verified against its recorded sha256 before use.

A downloaded file is kept only while its runtime is built (``RuntimeLoader`` discards it then, built or not),
so the disk holds at most the one artifact being loaded (uploads are at most 100 MiB): the function's
ephemeral storage need not grow with the in-memory cache of sessions.
"""

import hashlib
import os
from importlib.resources import files
from pathlib import Path
from typing import Protocol

from shared.registry.models import Artifact

BUNDLED_PREFIX = "bundled:"
_CHUNK = 1024 * 1024


class ArtifactDownloader(Protocol):
    def download(self, key: str, destination: Path) -> None: ...


class ArtifactIntegrityError(Exception):
    """A model file is not the one that was registered (size or sha256 differ)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ArtifactFiles:
    """Fetch an artifact (from S3, or bundled with the package) and prove it is the registered file."""

    def __init__(self, downloader: ArtifactDownloader, directory: Path) -> None:
        self._downloader = downloader
        self._directory = directory

    def local_path(self, artifact: Artifact) -> Path:
        """The verified local file; raise ``ArtifactIntegrityError`` (and keep no copy) when it does not match."""
        if artifact.location.startswith(BUNDLED_PREFIX):
            path = Path(str(files("shared.runtimes.bundled") / artifact.location.removeprefix(BUNDLED_PREFIX)))
            _verify(path, artifact)
            return path
        path = self._directory / _local_name(artifact)
        if not path.exists():
            self._directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            try:
                self._downloader.download(artifact.location, partial)
            except BaseException:
                partial.unlink(missing_ok=True)  # a download cut short (a full disk) leaves nothing behind
                raise
            partial.replace(path)
        try:
            _verify(path, artifact)
        except ArtifactIntegrityError:
            path.unlink(missing_ok=True)
            raise
        return path

    def discard(self, artifact: Artifact) -> None:
        """Free the disk space of a downloaded artifact (bundled files stay): once its runtime is built, the
        model is in memory and the file is not read again."""
        if not artifact.location.startswith(BUNDLED_PREFIX):
            (self._directory / _local_name(artifact)).unlink(missing_ok=True)


def _local_name(artifact: Artifact) -> str:
    """``<sha256>.onnx`` for a model file, ``<sha256>.archive`` for a text model's archive."""
    return f"{artifact.sha256}.onnx" if artifact.location.endswith(".onnx") else f"{artifact.sha256}.archive"


def _verify(path: Path, artifact: Artifact) -> None:
    size = path.stat().st_size
    if size != artifact.size:
        raise ArtifactIntegrityError(f"artifact is {size} bytes, {artifact.size} were registered")
    if sha256_of(path) != artifact.sha256:
        raise ArtifactIntegrityError("artifact sha256 differs from the registered one")

"""Find the runtime for a model version, build it once per container, and bound what stays loaded.

Built-in runtimes stay for the container's life: the code-only ones (echo, sentiment) and the built-in
text models, served by ``TextRuntime`` from their shipped folder under ``builtin_models_dir`` once its
manifest and files are checked (``shared.runtimes.builtin_text``). ONNX sessions (``onnx`` and ``text``
versions) are kept in an LRU cache keyed by model version (name, number and artifact digest), bounded by
a count and by the total size of their artifacts. A downloaded file is deleted from ``/tmp`` as soon as its
session is built (or fails to build): a session holds its model in memory (onnxruntime keeps neither the file
open nor mapped), so the disk holds one artifact at most, whatever the cache holds.
"""

from collections import OrderedDict
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from threading import Lock

from shared.kernel.observability import logger
from shared.registry.builtins import BUILTIN_TEXT_MODELS
from shared.registry.models import ModelVersion
from shared.runtimes.artifacts import ArtifactFiles, ArtifactIntegrityError
from shared.runtimes.base import ModelRuntime

# Built-in runtimes by model name, as "module:class" so nothing heavy is imported until needed.
_BUILTIN_RUNTIMES = {
    "echo": "shared.runtimes.echo:EchoRuntime",
    "sentiment": "shared.runtimes.sentiment:SentimentRuntime",
}

CacheKey = tuple[str, int, str]


class RuntimeUnavailableError(Exception):
    """No runtime can serve this model version (a deployment or integrity fault, not the caller's)."""


class RuntimeLoader:
    def __init__(
        self,
        files: ArtifactFiles,
        max_sessions: int = 8,
        max_bytes: int = 1024 * 1024 * 1024,
        builtin_models_dir: Path | None = None,
    ) -> None:
        self._files = files
        self._builtin_models_dir = builtin_models_dir
        self._max_sessions = max_sessions
        self._max_bytes = max_bytes
        self._builtins: dict[str, ModelRuntime] = {}
        self._sessions: OrderedDict[CacheKey, tuple[ModelVersion, ModelRuntime]] = OrderedDict()
        self._lock = Lock()

    def __call__(self, version: ModelVersion) -> ModelRuntime:
        with self._lock:  # one load at a time: two threads never build the same session twice
            if version.runtime == "builtin":
                return self._builtin(version)
            if version.runtime == "text" and version.artifact is None:
                return self._builtin_text(version)
            if version.runtime in ("onnx", "text") and version.artifact is not None:
                return self._session(version)
        raise RuntimeUnavailableError(f"no {version.runtime} runtime for {version.name}:{version.version}")

    @property
    def loaded(self) -> list[CacheKey]:
        """Cached ONNX sessions, least recently used first."""
        return list(self._sessions)

    def _builtin(self, version: ModelVersion) -> ModelRuntime:
        if version.name not in self._builtins:
            if version.name not in _BUILTIN_RUNTIMES:
                raise RuntimeUnavailableError(f"no builtin runtime for {version.name}:{version.version}")
            self._builtins[version.name] = _instantiate(_BUILTIN_RUNTIMES[version.name])()
        return self._builtins[version.name]

    def _builtin_text(self, version: ModelVersion) -> ModelRuntime:
        if version.name in self._builtins:
            return self._builtins[version.name]
        model = BUILTIN_TEXT_MODELS.get(version.name)
        if model is None or self._builtin_models_dir is None:
            raise RuntimeUnavailableError(f"no built-in text model {version.name}:{version.version}")
        from shared.runtimes.builtin_text import BuiltinModelFolderError, load_builtin_text
        from shared.runtimes.sessions import SessionUnusableError
        from shared.runtimes.text import TextGraphError
        from shared.runtimes.tokenizing import TokenizerRefusedError

        try:
            runtime = load_builtin_text(self._builtin_models_dir / model.name, model)
        except (
            BuiltinModelFolderError,
            ArtifactIntegrityError,
            OSError,
            UnicodeDecodeError,
            SessionUnusableError,
            TextGraphError,
            TokenizerRefusedError,
        ) as exc:
            logger.error("built-in model unusable", extra={"model": version.name, "reason": str(exc)})
            raise RuntimeUnavailableError(f"{version.name}:{version.version}: {exc}") from exc
        self._builtins[version.name] = runtime
        logger.info("built-in model loaded", extra={"model": version.name, "version": version.version})
        return runtime

    def _session(self, version: ModelVersion) -> ModelRuntime:
        assert version.artifact is not None
        key = (version.name, version.version, version.artifact.sha256)
        if key in self._sessions:
            self._sessions.move_to_end(key)
            return self._sessions[key][1]
        try:
            path = self._files.local_path(version.artifact)
            runtime = _build(version, path)
        except (ArtifactIntegrityError, _UnusableArtifactError, OSError) as exc:
            logger.error("model artifact unusable", extra={"model": version.name, "version": version.version})
            raise RuntimeUnavailableError(f"{version.name}:{version.version}: {exc}") from exc
        finally:
            self._files.discard(version.artifact)  # the session holds the model: the disk never fills up
        self._sessions[key] = (version, runtime)
        self._evict()
        logger.info("onnx session loaded", extra={"model": version.name, "version": version.version})
        return runtime

    def _evict(self) -> None:
        def total() -> int:
            return sum(v.artifact.size for v, _ in self._sessions.values() if v.artifact is not None)

        while len(self._sessions) > 1 and (len(self._sessions) > self._max_sessions or total() > self._max_bytes):
            _, (evicted, _) = self._sessions.popitem(last=False)
            logger.info("onnx session evicted", extra={"model": evicted.name, "version": evicted.version})


class _UnusableArtifactError(Exception):
    """The verified artifact does not load (it did at registration: a runtime upgrade, or a fault)."""


def _build(version: ModelVersion, path: Path) -> ModelRuntime:
    """The runtime over a verified local artifact; heavy modules are imported here, on first use only."""
    if version.runtime == "text":
        from shared.registry.text_archives import ArchiveRefusedError
        from shared.runtimes.sessions import SessionUnusableError
        from shared.runtimes.text import TextGraphError, TextRuntime
        from shared.runtimes.tokenizing import TokenizerRefusedError

        if version.text is None:
            raise _UnusableArtifactError("a text version without its text spec")
        try:
            return TextRuntime.from_file(path, version.text)
        except (ArchiveRefusedError, SessionUnusableError, TextGraphError, TokenizerRefusedError) as exc:
            raise _UnusableArtifactError(str(exc)) from exc
    from shared.runtimes.onnx import OnnxRuntime, UnsupportedModelError

    try:
        return OnnxRuntime(path)
    except UnsupportedModelError as exc:
        raise _UnusableArtifactError(str(exc)) from exc


def _instantiate(target: str) -> Callable[[], ModelRuntime]:
    module_name, class_name = target.split(":")
    factory: Callable[[], ModelRuntime] = getattr(import_module(module_name), class_name)
    return factory

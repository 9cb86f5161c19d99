"""Find and cache the runtime for a model version (one instance per container)."""

from functools import cache
from importlib import import_module

from shared.registry.models import ModelVersion
from shared.runtimes.base import ModelRuntime

# Built-in runtimes by model name, as "module:class" so nothing heavy is imported until needed.
_BUILTIN_RUNTIMES = {
    "echo": "shared.runtimes.echo:EchoRuntime",
    "sentiment": "shared.runtimes.sentiment:SentimentRuntime",
}


class RuntimeUnavailableError(Exception):
    """No runtime can serve this model version (a deployment fault, not the caller's)."""


def load_runtime(version: ModelVersion) -> ModelRuntime:
    return _load(version.runtime, version.name, version.version)


@cache
def _load(runtime: str, name: str, version: int) -> ModelRuntime:
    if runtime != "builtin" or name not in _BUILTIN_RUNTIMES:
        raise RuntimeUnavailableError(f"no {runtime} runtime for {name}:{version}")
    module_name, class_name = _BUILTIN_RUNTIMES[name].split(":")
    runtime_class = getattr(import_module(module_name), class_name)
    instance: ModelRuntime = runtime_class()
    return instance

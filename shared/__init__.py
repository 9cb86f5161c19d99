"""Infergate's one shared package: domain, validation, storage, queues, runtimes and HTTP glue.

Layers point one way (import-linter contracts in ``pyproject.toml``): glue (``api``, ``queue``) ->
``snapstart`` -> ``wiring`` -> ``settings`` -> ``adapters`` and ``representations`` -> features
(``predictions``, ``batches``, ``registry``, ...) -> ``kernel``. Nothing here imports ``tools``.
"""

__all__ = ["__version__"]

# The release, as in pyproject.toml (a contract test keeps the two equal). A constant, not
# importlib.metadata: the layer ships no dist-info, and searching for it cost ~0.1 s of every cold start.
__version__ = "0.1.0"

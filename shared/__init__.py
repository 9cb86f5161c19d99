"""Infergate's one shared package: domain, validation, storage, queues, runtimes and HTTP glue.

Layers point one way: ``shared.api`` -> domain services (``predictions``, ``keys``, ``registry``)
-> adapters (``store``, ``queue``, ``runtimes``). Domain models and errors are usable everywhere.
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("infergate")
except PackageNotFoundError:  # the Lambda layer ships the package without its dist-info
    __version__ = "0.1.0"

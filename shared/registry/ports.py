"""What the registry needs from storage and from the artifact inspector (adapters and fakes implement these)."""

from typing import Protocol

from shared.registry.models import Model, ModelVersion, NewVersion


class ModelStore(Protocol):
    """A tenant's registered (non built-in) models. Versions are immutable once written."""

    def list_models(self, tenant: str) -> list[Model]: ...

    def get_model(self, tenant: str, name: str) -> Model | None: ...

    def get_version(self, tenant: str, name: str, version: int | None) -> ModelVersion | None:
        """The pinned version, or the latest when ``version`` is None; None when there is none."""
        ...

    def add_version(self, tenant: str, new: NewVersion, created_at: str) -> ModelVersion:
        """Number the version one past the latest and store it atomically.

        Raise ``VersionRaceError`` when another registration took the number first.
        """
        ...

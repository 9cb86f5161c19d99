"""The message between the register-version function and the artifact inspector function.

The inspector is a separate Lambda function because it loads the artifact with onnxruntime, a
dependency only inference functions carry; the register function invokes it synchronously.
"""

from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, Field

from shared.registry.models import Artifact, TensorSpec
from shared.registry.text import TextOptions, TextSpec


class InspectRequest(BaseModel):
    upload_key: str
    size: int = Field(ge=0)
    destination_prefix: str = Field(description="Where the verified artifact is stored, under its sha256.")
    text: TextOptions | None = Field(default=None, description="Set for a text model: the file is its archive.")


class TensorSpecWire(BaseModel):
    name: str
    datatype: str
    shape: list[int]

    @classmethod
    def of(cls, spec: TensorSpec) -> "TensorSpecWire":
        return cls(name=spec.name, datatype=spec.datatype, shape=list(spec.shape))

    def to_domain(self) -> TensorSpec:
        return TensorSpec(self.name, self.datatype, tuple(self.shape))


class Accepted(BaseModel):
    ok: Literal[True] = True
    sha256: str
    size: int
    location: str
    inputs: list[TensorSpecWire]
    outputs: list[TensorSpecWire]
    text: TextSpec | None = None

    @property
    def artifact(self) -> Artifact:
        return Artifact(self.sha256, self.size, self.location)


class Rejected(BaseModel):
    ok: Literal[False] = False
    reason: str = Field(description="Why the file is not a usable model; safe to show the caller.")


class InspectResponse(BaseModel):
    result: Annotated[Accepted | Rejected, Field(discriminator="ok")]


class ArtifactInspector(Protocol):
    def inspect(self, request: InspectRequest) -> Accepted | Rejected:
        """Raise ``TransientError`` when the inspector itself failed (not the artifact)."""
        ...

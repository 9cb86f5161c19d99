"""The inspector function's work: fetch an uploaded model file, prove it loads, and store it immutably.

The verified local copy is what gets stored (under its sha256), so a second PUT to the upload's
still-valid URL cannot swap the registered file.
"""

import tempfile
from pathlib import Path
from typing import Protocol

from shared.registry.inspection import Accepted, InspectRequest, Rejected, TensorSpecWire
from shared.runtimes.artifacts import sha256_of
from shared.runtimes.onnx import OnnxRuntime, UnsupportedModelError

ARTIFACT_CONTENT_TYPE = "application/octet-stream"


class ArtifactObjects(Protocol):
    def download(self, key: str, destination: Path) -> None: ...

    def upload(self, source: Path, key: str, content_type: str) -> None: ...


def inspect_artifact(request: InspectRequest, objects: ArtifactObjects, scratch: Path) -> Accepted | Rejected:
    with tempfile.TemporaryDirectory(dir=scratch) as directory:
        local = Path(directory) / "model.onnx"
        objects.download(request.upload_key, local)
        size = local.stat().st_size
        if size != request.size:
            return Rejected(reason=f"the file is {size} bytes, but the upload declared {request.size}")
        try:
            runtime = OnnxRuntime(local)
        except UnsupportedModelError as exc:
            return Rejected(reason=str(exc))
        sha256 = sha256_of(local)
        location = f"{request.destination_prefix}{sha256}.onnx"
        objects.upload(local, location, ARTIFACT_CONTENT_TYPE)
    return Accepted(
        sha256=sha256,
        size=size,
        location=location,
        inputs=[TensorSpecWire.of(spec) for spec in runtime.inputs],
        outputs=[TensorSpecWire.of(spec) for spec in runtime.outputs],
    )
